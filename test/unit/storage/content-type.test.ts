import { describe, expect, it } from 'vitest';
import { sniffImageType, variantContentType } from '../../../src/storage/content-type.js';
import { animatedGif, htmlBytes, photoJpeg, photoPng } from '../../helpers/images.js';

describe('blob content types', () => {
  it('reads an original’s type from its bytes, not from what a server claimed', async () => {
    expect(sniffImageType(await photoJpeg(20, 10))).toBe('image/jpeg');
    expect(sniffImageType(await photoPng(20, 10))).toBe('image/png');
    expect(sniffImageType(await animatedGif(2, 8, 8))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(htmlBytes())).toBe('application/octet-stream');
    expect(sniffImageType(Buffer.alloc(0))).toBe('application/octet-stream');
  });

  it('gives variants their format’s type, and nothing for other keys', () => {
    const sha = 'a'.repeat(64);
    expect(variantContentType(`variants/${sha}/600.webp`)).toBe('image/webp');
    expect(variantContentType(`variants/${sha}/600.jpeg`)).toBe('image/jpeg');
    expect(variantContentType(`variants/${sha}/600.exe`)).toBeUndefined();
    expect(variantContentType(`originals/aa/aa/${sha}`)).toBeUndefined();
  });
});
