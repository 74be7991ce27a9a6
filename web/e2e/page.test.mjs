// Browser test of the whole page: Debian's Chromium driven by
// playwright-core (never a browser Playwright downloads) against a running
// `topsongs api` that serves the built page over the fixture charts of
// tests/integration/fixtures/charts.sql.
//
//   node e2e/page.test.mjs http://127.0.0.1:PORT
//
// Exits 0 when every check passed; prints each check and a closing count.
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node e2e/page.test.mjs BASE_URL");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

const rows = (page) => page.locator('[data-testid="chart-row"]');
async function firstTitle(page) {
  return (await rows(page).first().locator(".title").textContent())?.trim();
}
async function waitTitle(page, title) {
  await page.locator('[data-testid="chart-row"] .title').first().filter({ hasText: new RegExp(`^${title}$`) }).waitFor({ timeout: 10000 });
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"], timeout: 30000 });
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, timezoneId: "Asia/Tokyo" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await check("the table shows the fixture's ten rows", async () => {
    await page.goto(`${base}/?region=EU&period=hour&at=2026-11-20T13`, { timeout: 15000 });
    await waitTitle(page, "Song 11");
    expect((await rows(page).count()) === 10, `expected 10 rows, got ${await rows(page).count()}`);
    const last = (await rows(page).nth(9).textContent()) ?? "";
    expect(last.includes("Song 9") && last.includes("1,900"), `10th row is ${last}`);
    expect((await rows(page).first().textContent()).includes("NEW"), "no NEW badge on the new entry");
  });

  await check("local time is shown beside the UTC hour", async () => {
    const local = await page.getByTestId("local-time").textContent();
    expect(/Asia\/Tokyo/.test(local) && /22:00|10:00\sPM/.test(local), `local time says ${local}`);
  });

  await check("switching region updates the URL and the table", async () => {
    await page.getByTestId("region").selectOption("ALL");
    await waitTitle(page, "Song 12");
    const url = new URL(page.url());
    expect(url.searchParams.get("region") === "ALL", `URL is ${page.url()}`);
    expect((await rows(page).count()) === 10, "not ten rows for ALL");
  });

  await check("switching period updates the URL and the table", async () => {
    await page.getByTestId("region").selectOption("EU");
    await waitTitle(page, "Song 11");
    await page.getByTestId("period-day").click();
    await waitTitle(page, "Song 10");
    const url = new URL(page.url());
    expect(url.searchParams.get("period") === "day" && url.searchParams.get("at") === "2026-11-20", `URL is ${page.url()}`);
  });

  await check("the keyboard reaches the controls", async () => {
    // Day 2026-11-20 -> hour 00 of that day (no chart in the fixture), by keyboard.
    await page.getByTestId("period-hour").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("status-empty").waitFor({ timeout: 10000 });
    const url = new URL(page.url());
    expect(url.searchParams.get("period") === "hour" && url.searchParams.get("at") === "2026-11-20T00", `URL is ${page.url()}`);
    await page.getByTestId("hour").focus();
    await page.getByTestId("hour").selectOption("13");
    await waitTitle(page, "Song 11");
  });

  await check("a shared URL restores the selection", async () => {
    const shared = `${base}/?region=EU&period=day&at=2026-11-20`;
    const other = await context.newPage();
    await other.goto(shared, { timeout: 15000 });
    await waitTitle(other, "Song 10");
    expect((await other.getByTestId("region").inputValue()) === "EU", "region not restored");
    expect((await other.getByTestId("period-day").getAttribute("aria-checked")) === "true", "period not restored");
    expect((await other.getByTestId("date").inputValue()) === "2026-11-20", "date not restored");
    await other.close();
  });

  await check("Back returns to the previous selection", async () => {
    await page.goBack(); // to hour 00
    await page.goBack(); // to the day
    await page.waitForFunction(() => location.search.includes("period=day"), null, { timeout: 10000 });
    await waitTitle(page, "Song 10");
  });

  await check("an hour without a chart shows the empty state", async () => {
    await page.goto(`${base}/?region=NA&period=hour&at=2026-11-20T13`, { timeout: 15000 });
    await page.getByTestId("status-empty").waitFor({ timeout: 10000 });
  });

  await check("the pipeline view shows the flow runs", async () => {
    await page.getByTestId("pipeline").waitFor({ timeout: 10000 });
    expect((await page.getByTestId("flow-run").count()) >= 3, "fewer than three flow runs");
  });

  await check("the pipeline view shows the ledger with its six stages", async () => {
    await page.getByTestId("ledger").waitFor({ timeout: 20000 });
    expect((await page.getByTestId("ledger-stage").count()) === 6, "not six ledger stages");
    const status = await page.getByTestId("ledger-status").textContent();
    expect(["balanced", "in flight", "mismatch"].includes(status), `ledger status ${status}`);
  });

  await check("readable on a phone: nothing wider than the screen", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    const p = await phone.newPage();
    await p.goto(`${base}/?region=EU&period=hour&at=2026-11-20T13`, { timeout: 15000 });
    await waitTitle(p, "Song 11");
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    expect(width <= 376, `page is ${width}px wide on a 375px screen`);
    await phone.close();
  });

  // Live mode: the current hour, refreshed in place when the chart changes.
  const pg = process.env.TOPSONGS_PG_URL;
  await check("live mode refreshes the current hour without reloading", async () => {
    expect(pg, "TOPSONGS_PG_URL not set");
    const psql = (sql) => execFileSync("psql", ["-qAtX", "-v", "ON_ERROR_STOP=1", pg, "-c", sql], { timeout: 10000 });
    const upsert = (plays) =>
      psql(
        "INSERT INTO top_songs_hourly (region, hour_start, rank, song_id, title, artist, genre, plays, " +
          "peak_rank, periods_on_chart, entry) VALUES ('OC', date_trunc('hour', now()), 1, 'fx-live', " +
          `'Live Song', 'Live Artist', 'pop', ${plays}, 1, 1, 'NEW') ON CONFLICT (region, hour_start, rank) ` +
          `DO UPDATE SET plays = ${plays}, updated_at = now()`,
      );
    upsert(111);
    await page.goto(`${base}/?region=OC&period=hour`, { timeout: 15000 });
    await waitTitle(page, "Live Song");
    expect((await page.getByTestId("chart-state").textContent()) === "live", "not marked live");
    await page.evaluate(() => (window.__notReloaded = true));
    upsert(777777);
    await page.locator('[data-testid="chart-row"]').first().filter({ hasText: "777,777" }).waitFor({ timeout: 20000 });
    expect(await page.evaluate(() => window.__notReloaded === true), "the page was reloaded");
    psql("DELETE FROM top_songs_hourly WHERE song_id = 'fx-live'");
  });

  await check("no script errors", async () => {
    expect(errors.length === 0, errors.join("; "));
  });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
