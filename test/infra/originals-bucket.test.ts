import { describe, expect, it } from 'vitest';
import type { AppFunction } from '#infra/constructs/app-function.ts';
import { expectNagClean, functionProps, stackFunctions } from './stack-assertions.ts';
import { actionsOf, identityPolicies, resourcesOf, type Statement, synthesize } from './synth.ts';

const s = synthesize({ stage: 'pilot', corsOrigins: 'https://play.example.com,http://localhost:8787' });
const { stack, template } = s;
const fns = stackFunctions(stack);
const bucketId = s.logicalId(stack.originals.bucket);
const bucket = template.toJSON().Resources[bucketId].Properties;
const json = (v: unknown) => JSON.stringify(s.resolve(v));

/** The S3 and KMS statements of one function's role. */
function grantsOf(fn: AppFunction): Statement[] {
  const role = json(fn.function.role!.roleName);
  return identityPolicies(template)
    .filter((p) => p.roles.some((r) => JSON.stringify(r) === role))
    .flatMap((p) => p.statements)
    .filter((st) => actionsOf(st).some((a) => a.startsWith('s3:') || a.startsWith('kms:')));
}
const s3Actions = (fn: AppFunction) =>
  grantsOf(fn)
    .flatMap((st) => actionsOf(st))
    .filter((a) => a.startsWith('s3:'))
    .sort();

describe('the bucket of uploaded originals', () => {
  it('when synthesized with AwsSolutions checks then it adds no unacknowledged finding', () => {
    expectNagClean(s);
  });

  it('when objects are stored then they are encrypted with SSE-KMS under the stack key, with a bucket key', () => {
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      {
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: {
          SSEAlgorithm: 'aws:kms',
          KMSMasterKeyID: s.resolve(stack.keys.credentialsKey.keyArn),
        },
      },
    ]);
  });

  it('when anyone tries public access or plain HTTP then it is blocked, and nothing is versioned', () => {
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('when uploads never finish then lifecycle rules abort multipart uploads after 1 day and expire tagged files', () => {
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'AbortIncompleteMultipartUploads',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        Status: 'Enabled',
      },
      {
        Id: 'ExpireUnfinishedUploads',
        ExpirationInDays: 2,
        TagFilters: [{ Key: 'minirag-upload', Value: 'unfinished' }],
        Status: 'Enabled',
      },
    ]);
  });

  it('when a browser uploads then CORS allows only the configured origins, PUT, and the signed headers', () => {
    expect(bucket.CorsConfiguration.CorsRules).toEqual([
      {
        AllowedOrigins: ['https://play.example.com', 'http://localhost:8787'],
        AllowedMethods: ['PUT'],
        AllowedHeaders: ['content-type', 'x-amz-tagging'],
        ExposedHeaders: ['etag'],
        MaxAge: 3600,
      },
    ]);
    const plain = synthesize({ stage: 'nocors' });
    const props = plain.template.toJSON().Resources[plain.logicalId(plain.stack.originals.bucket)].Properties;
    expect(props.CorsConfiguration).toBeUndefined();
  });

  it('when the functions are granted access then the api may put, tag and read, ingest read and delete, the others nothing', () => {
    const objects = json({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/tenants/*']] });
    expect(s3Actions(fns.api)).toEqual(['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging']);
    expect(s3Actions(fns.ingest)).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectTagging',
      's3:GetObject',
      's3:ListBucket',
    ]);
    expect(s3Actions(fns.chat)).toEqual([]);
    expect(s3Actions(fns.migrate)).toEqual([]);
    for (const fn of [fns.api, fns.ingest]) {
      for (const st of grantsOf(fn).filter((g) => actionsOf(g).some((a) => a.startsWith('s3:')))) {
        if (actionsOf(st).includes('s3:ListBucket')) {
          expect(resourcesOf(st).map((r) => JSON.stringify(r))).toEqual([
            json({ 'Fn::GetAtt': [bucketId, 'Arn'] }),
          ]);
          expect(st.Condition).toEqual({ StringLike: { 's3:prefix': ['tenants/*'] } });
        } else {
          expect(resourcesOf(st).map((r) => JSON.stringify(r))).toEqual([objects]);
        }
      }
    }
  });

  it('when S3 uses the key for them then each function may use it only through S3, for this bucket', () => {
    const kmsOf = (fn: AppFunction) =>
      grantsOf(fn).filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
    const [api] = kmsOf(fns.api);
    const [ingest] = kmsOf(fns.ingest);
    expect(actionsOf(api!).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(actionsOf(ingest!)).toEqual(['kms:Decrypt']);
    for (const st of [api!, ingest!]) {
      expect(resourcesOf(st).map((r) => JSON.stringify(r))).toEqual([json(stack.keys.credentialsKey.keyArn)]);
      expect(JSON.stringify(st.Condition)).toContain('kms:ViaService');
      expect(
        (st.Condition as { StringEquals: Record<string, unknown> }).StringEquals[
          'kms:EncryptionContext:aws:s3:arn'
        ],
      ).toEqual(s.resolve(stack.originals.bucket.bucketArn));
    }
    expect(kmsOf(fns.chat).some((st) => JSON.stringify(st.Condition ?? {}).includes('aws:s3:arn'))).toBe(
      false,
    );
  });

  it('when the api and ingest functions start then they are told the bucket; multipart files stay within 4 MB', () => {
    const env = (fn: AppFunction) => functionProps(s, fn).Environment.Variables;
    expect(env(fns.api).BLOB_BUCKET).toEqual({ Ref: bucketId });
    expect(env(fns.ingest).BLOB_BUCKET).toEqual({ Ref: bucketId });
    expect(env(fns.api).MAX_INLINE_UPLOAD_BYTES).toBe(String(4 * 1024 * 1024));
    expect(env(fns.api).MAX_UPLOAD_BYTES).toBe(String(100 * 1024 * 1024));
    expect(env(fns.chat).BLOB_BUCKET).toBeUndefined();
  });
});
