// Two chat pages served by two different instances (which share only Redis): what one page
// sends shows up on both, both ways. Works with the sse_chat and ws_chat pages.
// Usage: node hub_chat.mjs BASE_URL_A BASE_URL_B [SCREENSHOT_PATH]
import { launch, screenshot } from "./launch.mjs";

const [baseA, baseB, shot = "target/browser/hub_chat.png"] = process.argv.slice(2);
if (!baseA || !baseB) {
  console.error("usage: node hub_chat.mjs BASE_URL_A BASE_URL_B [SCREENSHOT_PATH]");
  process.exit(2);
}

const lines = (page) =>
  page.$$eval("#messages li, #log li", (items) => items.map((item) => item.textContent));

async function say(page, text) {
  const input = (await page.$("#text")) ? "#text" : "#message";
  await page.fill(input, text);
  await page.press(input, "Enter");
}

async function waitForLine(page, text) {
  await page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll("#messages li, #log li")].some((item) => item.textContent.endsWith(expected)),
    text,
    { timeout: 5000 },
  );
}

const context = await launch();
let failure = null;
try {
  const pageA = await context.newPage();
  const pageB = await context.newPage();
  for (const [page, base] of [[pageA, baseA], [pageB, baseB]]) {
    await page.goto(base, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "connected", null, {
      timeout: 5000,
    });
  }
  const fromA = `hello from A ${Date.now()}`;
  await say(pageA, fromA);
  await waitForLine(pageB, fromA);
  await waitForLine(pageA, fromA);
  const fromB = `hello from B ${Date.now()}`;
  await say(pageB, fromB);
  await waitForLine(pageA, fromB);
  await waitForLine(pageB, fromB);
  const seenA = await lines(pageA);
  const seenB = await lines(pageB);
  await screenshot(pageB, shot);
  console.log(`page A: ${JSON.stringify(seenA)}\npage B: ${JSON.stringify(seenB)}\nscreenshot at ${shot}`);
  for (const [name, seen] of [["A", seenA], ["B", seenB]]) {
    for (const said of [fromA, fromB]) {
      const count = seen.filter((line) => line.endsWith(said)).length;
      if (count !== 1) failure = `page ${name} shows ${JSON.stringify(said)} ${count} times`;
    }
  }
} catch (error) {
  failure = String(error);
} finally {
  await context.close();
}
if (failure) {
  console.error(failure);
  process.exit(1);
}
