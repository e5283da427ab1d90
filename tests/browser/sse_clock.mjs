// Opens the sse_clock page and checks that #time shows at least three different values
// within five seconds. Usage: node sse_clock.mjs BASE_URL SCREENSHOT_PATH
import { launch, screenshot } from "./launch.mjs";

const [base, shot = "target/browser/sse_clock.png"] = process.argv.slice(2);
if (!base) {
  console.error("usage: node sse_clock.mjs BASE_URL [SCREENSHOT_PATH]");
  process.exit(2);
}

const context = await launch();
let failure = null;
try {
  const page = await context.newPage();
  await page.goto(base, { waitUntil: "domcontentloaded" });
  const seen = new Set();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && seen.size < 3) {
    const text = (await page.textContent("#time")) ?? "";
    if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(text)) seen.add(text);
    await page.waitForTimeout(100);
  }
  await screenshot(page, shot);
  console.log(`#time showed ${seen.size} values: ${[...seen].join(" | ")}; screenshot at ${shot}`);
  if (seen.size < 3) failure = `expected at least 3 different times within 5 s, saw ${seen.size}`;
} catch (error) {
  failure = String(error);
} finally {
  await context.close();
}
if (failure) {
  console.error(failure);
  process.exit(1);
}
