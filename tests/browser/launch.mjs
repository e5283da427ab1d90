// Starts Debian's Chromium headless through playwright-core, with a fresh profile and the
// flags that keep it off the network (this machine's network is closed).
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";

// ignoreCertificateErrors: accept the test's self-signed certificate (HTTPS pages).
// trustedSpki: base64 SHA-256 hashes of public keys whose certificates Chromium treats as
// valid, not merely accepted: it pools and reuses connections with certificate errors
// less than it does valid ones.
export async function launch({ ignoreCertificateErrors = false, trustedSpki = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "bareasgi-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...(ignoreCertificateErrors ? ["--ignore-certificate-errors"] : []),
      ...(trustedSpki.length ? [`--ignore-certificate-errors-spki-list=${trustedSpki.join(",")}`] : []),
    ],
  });
}

export async function screenshot(page, path) {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path });
}
