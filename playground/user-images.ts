// The user's own images: dropped files or folders, decoded by the browser, cut to their centred
// square and resized to side × side, gray (BT.601 luma) or RGB (planes one after another) in [0, 1].

export interface DecodedImages {
  pixels: Float32Array;
  names: string[];
  /** Files that were not PNG or JPEG images, with why. */
  rejected: string[];
}

const IMAGE = /\.(png|jpe?g)$/i;

/** Every file in a drop, walking into dropped folders. */
export async function droppedFiles(items: DataTransfer): Promise<File[]> {
  const entries = [...items.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (!entries.length) return [...items.files];
  const files: File[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) files.push(await new Promise<File>((ok, no) => (e as FileSystemFileEntry).file(ok, no)));
    else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, no) => reader.readEntries(ok, no));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const e of entries) await walk(e);
  return files;
}

export async function decodeImages(files: File[], side: number, channels: 1 | 3 = 1): Promise<DecodedImages> {
  const canvas = new OffscreenCanvas(side, side);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const good: Float32Array[] = [];
  const names: string[] = [];
  const rejected: string[] = [];
  for (const file of files) {
    if (!(file.type === 'image/png' || file.type === 'image/jpeg' || IMAGE.test(file.name))) {
      rejected.push(`${file.name} is not a PNG or JPEG image (${file.type || 'unknown type'})`);
      continue;
    }
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      rejected.push(`${file.name} could not be decoded as an image`);
      continue;
    }
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, side, side);
    // The centred square, as the command line's --size takes it.
    const s = Math.min(bitmap.width, bitmap.height);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, (bitmap.width - s) / 2, (bitmap.height - s) / 2, s, s, 0, 0, side, side);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, side, side).data;
    const n = side * side;
    const pixels = new Float32Array(channels * n);
    if (channels === 1) for (let i = 0; i < n; i++) pixels[i] = (0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!) / 255;
    else for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) pixels[c * n + i] = rgba[4 * i + c]! / 255;
    good.push(pixels);
    names.push(file.name);
  }
  const pixels = new Float32Array(good.length * channels * side * side);
  good.forEach((g, i) => pixels.set(g, i * channels * side * side));
  return { pixels, names, rejected };
}
