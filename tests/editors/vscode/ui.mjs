// Driving VS Code's workbench (code-server) as a user does: shared by the e2e scripts here.
import { join } from "node:path";

export class Ui {
  constructor(page, seen, artifacts) {
    this.page = page;
    this.seen = seen;
    this.artifacts = artifacts;
  }

  // Every frame's visible text (the workbench, the webviews): the key must be in none.
  async allText() {
    const texts = [];
    for (const frame of this.page.frames()) {
      try {
        texts.push(await frame.evaluate(() => document.body?.innerText ?? ""));
      } catch {
        // a frame that went away
      }
    }
    return texts.join("\n");
  }

  async shot(name) {
    await this.page.screenshot({ path: join(this.artifacts, `${name}.png`) });
    this.seen.texts.push({ name, text: await this.allText() });
  }

  // Run a command from the palette; until the extension host has registered the extension's
  // commands (a few seconds after the workbench shows) it is retried.
  async palette(title, timeout = 60000) {
    const page = this.page;
    const deadline = Date.now() + timeout;
    for (;;) {
      await page.keyboard.press("F1");
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 15000 });
      await input.fill(">" + title);
      const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
      try {
        await row.waitFor({ timeout: 3000 });
        await page.keyboard.press("Enter");
        return;
      } catch (err) {
        await page.keyboard.press("Escape");
        if (Date.now() > deadline) throw err;
        await page.waitForTimeout(1000);
      }
    }
  }

  async notification(pattern, timeout) {
    const toast = this.page.locator(".notifications-toasts .notification-toast", { hasText: pattern }).first();
    await toast.waitFor({ timeout });
    return toast.innerText();
  }

  // A message that may have gone to the notification center (toasts show a few at a time).
  async notificationAnywhere(pattern, timeout) {
    try {
      return await this.notification(pattern, timeout);
    } catch (err) {
      await this.palette("Notifications: Show Notifications");
      const item = this.page.locator(".notifications-center .notification-list-item", { hasText: pattern }).first();
      await item.waitFor({ timeout: 5000 }).catch(() => {
        throw err;
      });
      const text = await item.innerText();
      await this.page.keyboard.press("Escape");
      return text;
    }
  }

  async clearNotifications() {
    await this.palette("Notifications: Clear All Notifications");
  }

  async openFile(name) {
    const page = this.page;
    await page.keyboard.press("Control+P");
    await page.locator(".quick-input-widget input").fill(name);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: name.split("/").pop() }).first().waitFor();
    await page.keyboard.press("Enter");
    await page.locator(".tabs-container .tab", { hasText: name.split("/").pop() }).waitFor();
  }

  async quickPickFirst(placeholder, timeout = 60000) {
    const widget = this.page.locator(".quick-input-widget");
    await widget.locator(`input[placeholder="${placeholder}"]`).waitFor({ timeout });
    const first = (await widget.locator(".monaco-list-row").first().innerText()).split("\n")[0];
    await this.page.keyboard.press("Enter");
    return first;
  }
}
