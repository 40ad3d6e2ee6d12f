import { expect, test } from "@playwright/test";

// Issue 11, item 10: at 390×844 the header did not wrap (the page was 564 px wide, the connection status
// off-screen) and the peers table overflowed its card. Every page must fit from 360 px wide, and the keyboard
// path must keep working (a skip link).

const ROUTES = ["#/", "#/dashboard", "#/experts", "#/about"] as const;

for (const width of [360, 390]) {
  test(`every page fits a ${width} px wide phone, the connection status on screen`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width, height: 800 }, isMobile: true });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
    for (const route of ROUTES) {
      await page.goto(`/${route}`);
      await expect(page.locator("main h2").first()).toBeVisible();
      const overflow = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        // Every card's right edge within the viewport (a table may scroll inside its card, not out of it).
        widestCard: Math.max(
          ...[...document.querySelectorAll(".card")].map((c) => c.getBoundingClientRect().right),
        ),
      }));
      expect(overflow.page, `${route}: page width`).toBeLessThanOrEqual(overflow.viewport);
      expect(overflow.widestCard, `${route}: a card`).toBeLessThanOrEqual(overflow.viewport);
      const status = await page.getByTestId("connection-status").boundingBox();
      expect(status, `${route}: status`).not.toBeNull();
      expect(status!.x + status!.width, `${route}: status on screen`).toBeLessThanOrEqual(width);
    }
    await context.close();
  });
}

test("the skip link moves keyboard focus to the page content, and About says what is shared", async ({
  page,
}) => {
  await page.goto("/#/about");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
  // The route did not change (the routes live in the hash; the skip link must not send us to Contribute).
  await expect(page.getByTestId("about-page")).toBeVisible();
  await expect(page.getByTestId("about-page")).toContainText("IP address");
  await expect(page.getByTestId("about-page")).toContainText("How to stop");
});
