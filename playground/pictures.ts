// Grids of gray or colour images drawn into canvases, one device pixel per image pixel (scaled by CSS).

/**
 * Draws `count` images of side × side pixels of `channels` values (1: gray; 3: RGB, each image's
 * planes one after another), `columns` per row, mapping [lo, hi] to 0..255.
 */
export function drawImages(canvas: HTMLCanvasElement, values: Float32Array, count: number, side: number, columns: number, lo = 0, hi = 1, channels = 1): void {
  const rows = Math.ceil(count / columns);
  const gap = 1;
  canvas.width = columns * (side + gap) - gap;
  canvas.height = rows * (side + gap) - gap;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(canvas.width, canvas.height);
  img.data.fill(255);
  for (let n = 0; n < count; n++) {
    const ox = (n % columns) * (side + gap);
    const oy = Math.floor(n / columns) * (side + gap);
    const plane = side * side;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const p = 4 * ((oy + y) * canvas.width + ox + x);
        for (let c = 0; c < 3; c++) {
          const v = Math.round((255 * (values[(n * channels + (channels === 3 ? c : 0)) * plane + y * side + x]! - lo)) / (hi - lo));
          img.data[p + c] = Math.max(0, Math.min(255, v));
        }
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Draws one width × height grayscale image in [0, 1]. */
export function drawPhoto(canvas: HTMLCanvasElement, values: Float32Array, width: number, height: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Math.max(0, Math.min(255, Math.round(255 * values[i]!)));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
