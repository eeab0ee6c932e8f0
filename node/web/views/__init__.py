"""HTTP views, one module per resource (house style: datasette's views/)."""
