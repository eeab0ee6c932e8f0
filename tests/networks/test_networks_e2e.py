"""Real processes: Leeds and Lambeth publish, national follows; ``/networks`` on national shows both in their own
words with their counts, follows an edited description after a sync, and passes axe with JavaScript off at 320 px."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nodeutil import ServeProcess, example_listings, get_json, make_node, signpost
from support.browser import Browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SCREENSHOTS = Path(os.environ.get("SIGNPOST_SCREENSHOTS", "/tmp/signpost-screenshots"))


def counts(network: str) -> dict[str, int]:
    return dict(Counter(f["kind"] for _, f in example_listings(network) if f["kind"] != "organisation"))


async def test_national_shows_each_network_in_its_own_words_and_follows_an_edit(
    tmp_path: Path, browser: Browser
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds node")
    lambeth = make_node(tmp_path / "lambeth", "Lambeth node")
    national = make_node(tmp_path / "national", "National directory")
    leeds.publish(example_listings("leeds"))
    lambeth.publish(example_listings("lambeth"))
    national.publish(example_listings("national"))
    servers = [ServeProcess(n).start() for n in (leeds, lambeth, national)]
    try:
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        signpost("follow", lambeth.url, "--publisher", lambeth.publisher, "--dir", str(national.directory))
        signpost("sync", "--dir", str(national.directory))

        status, _, body = get_json(f"{national.url}/api/v1/networks")
        assert status == 200
        items: dict[str, Any] = {i["publisher"]: i for i in body["items"]}
        assert set(items) == {leeds.publisher, lambeth.publisher, national.publisher}
        assert items[leeds.publisher]["name"] == "Leeds Peer Support Network"
        assert items[leeds.publisher]["via"] == leeds.url and items[leeds.publisher]["via_name"] == "Leeds node"
        assert items[lambeth.publisher]["organisation"]["summary"].startswith("A partnership of people")
        assert items[lambeth.publisher]["via"] == lambeth.url
        # Counts of live listings (bramley-hearing-voices is closed) as the node counts them today.
        leeds_counts = counts("leeds")
        leeds_counts["group"] -= 1
        assert items[leeds.publisher]["counts"] == leeds_counts
        assert items[lambeth.publisher]["counts"] == counts("lambeth")

        status, _, near = get_json(f"{national.url}/api/v1/networks?near=Lambeth")
        assert [i["publisher"] for i in near["items"]] == [lambeth.publisher]

        # Leeds edits its own description; national shows the change after its next pull.
        org_id, org = example_listings("leeds")[0]
        assert org["kind"] == "organisation"
        new_words = "From January we also run a peer support cafe in Armley on Saturdays."
        leeds.publish([(org_id, {**org, "description": org["description"] + "\n" + new_words})])
        status, _, before = get_json(f"{national.url}/api/v1/networks/{leeds.publisher}")
        assert new_words not in before["network"]["organisation"]["description"]
        signpost("sync", "--dir", str(national.directory))
        status, _, after = get_json(f"{national.url}/api/v1/networks/{leeds.publisher}")
        assert new_words in after["network"]["organisation"]["description"]

        # In a real browser: no JavaScript, 320 px wide, axe clean, no sideways scrolling.
        for path, expect in [
            ("/networks", "Lambeth Living Well Collaborative"),
            ("/networks?near=Lambeth", "1 network near"),
            (f"/networks/{leeds.publisher}", new_words),
        ]:
            page = await browser.new_page(javascript=False, width=320, height=740, mobile=True)
            assert await page.goto(national.url + path) == 200
            assert await page.axe() == [], path
            assert not await page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            ), f"{path} scrolls sideways at 320px"
            assert expect in await page.text(), path
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = "networks-" + ("near" if "near" in path else "one" if path.count("/") > 1 else "all") + "-320.png"
            await page.screenshot(SCREENSHOTS / name, full_page=True)
    finally:
        for s in servers:
            s.stop()
