/**
 * The Battery Status API where the browser has it (Chromium; not Firefox or Safari): calls `onChange` with
 * "discharging" now and whenever it changes. Resolves false where the API is absent or refuses, so the view
 * hides "only on AC power" there.
 */
interface BatteryLike extends EventTarget {
  readonly charging: boolean;
}

export async function watchBattery(
  nav: Navigator,
  onChange: (discharging: boolean) => void,
): Promise<boolean> {
  const getBattery = (nav as Navigator & { getBattery?: () => Promise<BatteryLike> }).getBattery;
  if (typeof getBattery !== "function") return false;
  try {
    const battery = await getBattery.call(nav);
    const tell = (): void => onChange(!battery.charging);
    battery.addEventListener("chargingchange", tell);
    tell();
    return true;
  } catch {
    return false;
  }
}
