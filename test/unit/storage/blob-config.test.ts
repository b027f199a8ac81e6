import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';

describe('blob store configuration', () => {
  it('defaults to the local folder', () => {
    expect(loadConfig({}).blobs).toEqual({ kind: 'local', publicUrl: undefined });
    expect(loadConfig({ BLOB_STORE: '', S3_BUCKET: '' }).blobs.kind).toBe('local');
  });

  it('reads the S3 settings, with us-east-1 as the default region', () => {
    expect(
      loadConfig({
        BLOB_STORE: 's3',
        S3_BUCKET: 'media',
        S3_PREFIX: 'tours',
        S3_ENDPOINT: 'http://s3.internal:7070',
        BLOB_PUBLIC_URL: 'https://cdn.example.com/media/',
      }).blobs,
    ).toEqual({
      kind: 's3',
      bucket: 'media',
      prefix: 'tours',
      endpoint: 'http://s3.internal:7070',
      region: 'us-east-1',
      publicUrl: 'https://cdn.example.com/media',
    });
    expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'm', AWS_REGION: 'eu-west-1' }).blobs).toMatchObject({
      region: 'eu-west-1',
      endpoint: undefined,
    });
  });

  it('refuses BLOB_STORE=s3 without a bucket, naming the variable', () => {
    expect(() => loadConfig({ BLOB_STORE: 's3' })).toThrow(/S3_BUCKET must be set when BLOB_STORE=s3/);
    expect(() => loadConfig({ BLOB_STORE: 's3', S3_BUCKET: '' })).toThrow(/S3_BUCKET/);
  });

  it('refuses an unknown store and a public URL that is not one', () => {
    expect(() => loadConfig({ BLOB_STORE: 'gcs' })).toThrow(/BLOB_STORE/);
    expect(() => loadConfig({ BLOB_PUBLIC_URL: 'cdn.example.com' })).toThrow(/BLOB_PUBLIC_URL/);
  });
});
