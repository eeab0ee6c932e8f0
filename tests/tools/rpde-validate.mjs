#!/usr/bin/env node
// Walks an RPDE feed with OpenActive's own validator and prints one JSON report on stdout:
//   {"ok": bool, "errors": [...], "warnings": [...], "notices": [...], "pages": [...]}
// "errors" are the validator's failures; "notices" are its notices and suggestions.
// Exit status: 0 when the walk ran (whatever it found), 2 on bad usage or a validator crash.
//
// Two gaps in @openactive/rpde-validator are closed here, because a test that trusts it
// would otherwise pass against a dead or broken server:
//  - FeedChecker.load() swallows every fetch error except its own timeout, so a refused
//    connection yields an empty, "valid" report. We wrap UrlHelper.fetch and turn those
//    errors into failures (rule "FetchFailed").
//  - A rule that throws (e.g. HttpContentTypeRule on a response with no Content-Type) is
//    swallowed by the same catch, silently ending the walk. We wrap every rule so a throw
//    becomes a failure (rule "RuleCrashed") on the page it happened on.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { RpdeValidator, defaultRules } = require('@openactive/rpde-validator');
const UrlHelper = require('@openactive/rpde-validator/src/helpers/url-helper');
const { version } = require('@openactive/rpde-validator/package.json');

const USAGE = 'usage: node rpde-validate.mjs [--page-limit N] [--timeout-ms N] [--verbose] FEED_URL';

function fail(message) {
  process.stderr.write(`rpde-validate: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      'page-limit': { type: 'string', default: '20' },
      'timeout-ms': { type: 'string', default: '10000' },
      verbose: { type: 'boolean', default: false },
    },
  });
} catch (e) {
  fail(e.message);
}
if (parsed.positionals.length !== 1) fail('exactly one FEED_URL is required');
const url = parsed.positionals[0];
if (!/^https?:\/\//.test(url)) fail(`not an http(s) URL: ${url}`);
const pageLimit = Number(parsed.values['page-limit']);
const timeoutMs = Number(parsed.values['timeout-ms']);
if (!Number.isInteger(pageLimit) || pageLimit < 1) fail('--page-limit must be a positive integer');
if (!Number.isInteger(timeoutMs) || timeoutMs < 1) fail('--timeout-ms must be a positive integer');

const fetchFailures = [];
const originalFetch = UrlHelper.fetch.bind(UrlHelper);
UrlHelper.fetch = (target, options, timeout) => originalFetch(target, options, timeout).catch((e) => {
  // Timeouts are already logged by the validator itself.
  if (e.name !== 'TimeoutError') {
    fetchFailures.push({
      rule: 'FetchFailed',
      type: 'fetch_failed',
      severity: 'failure',
      message: `could not fetch ${target}: ${e.name}: ${e.message}`,
      url: target,
    });
  }
  throw e;
});

function guard(method) {
  return function guarded(node) {
    try {
      return method.call(this, node);
    } catch (e) {
      const where = node && typeof node.url === 'string' ? node.url : url;
      fetchFailures.push({
        rule: 'RuleCrashed',
        type: 'rule_crashed',
        severity: 'failure',
        message: `validator rule ${this.meta.name} threw on ${where}: ${e.name}: ${e.message}`,
        url: where,
      });
      return undefined;
    }
  };
}
for (const group of Object.values(defaultRules)) {
  for (const Rule of group) {
    if (!Rule.prototype.signpostGuarded) {
      Rule.prototype.validate = guard(Rule.prototype.validate);
      Rule.prototype.after = guard(Rule.prototype.after);
      Rule.prototype.signpostGuarded = true;
    }
  }
}

let log;
try {
  log = await RpdeValidator(url, {
    pageLimit,
    timeoutMs,
    logCallback: (entry) => {
      if (parsed.values.verbose) process.stderr.write(`${entry.message}\n`);
    },
  });
} catch (e) {
  process.stderr.write(`rpde-validate: validator crashed: ${e.stack || e}\n`);
  process.exit(2);
}

const buckets = { failure: [], warning: [], notice: [], suggestion: [] };
const pages = [];
for (const page of log.pages) {
  pages.push(page.url);
  for (const err of page.errors) {
    const entry = {
      rule: err.rule ?? null,
      type: err.type ?? null,
      severity: err.severity,
      message: err.message,
      url: page.url,
    };
    (buckets[err.severity] ?? buckets.notice).push(entry);
  }
}
buckets.failure.push(...fetchFailures);

const report = {
  ok: buckets.failure.length === 0,
  validator: `@openactive/rpde-validator@${version}`,
  url,
  errors: buckets.failure,
  warnings: buckets.warning,
  notices: [...buckets.notice, ...buckets.suggestion],
  pages,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
