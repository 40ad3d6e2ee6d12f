import { useEffect, useRef } from "react";

/** A 28×28 model input drawn as it is fed to the model (white-on-black), scaled up without smoothing. */
export function Thumbnail({ pixels, side = 28 }: { pixels: Uint8Array; side?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext("2d");
    if (!context) return;
    const image = context.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const v = pixels[i] ?? 0;
      image.data.set([v, v, v, 255], i * 4);
    }
    context.putImageData(image, 0, 0);
  }, [pixels, side]);
  return <canvas ref={canvas} width={side} height={side} className="thumb-canvas" aria-hidden="true" />;
}
