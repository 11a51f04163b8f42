import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { UNFINISHED_UPLOAD_TAG } from '#shared/adapters/s3/blob-store.ts';

export interface OriginalsProps {
  /** The stack's customer-managed key: objects are encrypted under it (SSE-KMS with an S3 Bucket Key). */
  readonly key: kms.IKey;
  /** Origins allowed to PUT files from a browser (the playground's); none: no CORS rule at all. */
  readonly corsOrigins: readonly string[];
  readonly removalPolicy: RemovalPolicy;
}

/** Where every object key starts: `tenants/{tenant_id}/sources/{source_id}/v{n}/original`. */
const TENANT_OBJECTS = 'tenants/*';

/** Days after which an object still tagged as an unfinished upload is expired (the sweep removes it after 1). */
export const UNFINISHED_UPLOAD_EXPIRY_DAYS = 2;

/**
 * The bucket of uploaded originals: private (BlockPublicAccess, TLS only), encrypted under the stack's key,
 * unversioned (a deleted source's file is gone, not kept as a noncurrent version), with lifecycle rules for
 * uploads that never finish. Clients PUT into it directly through presigned URLs made by the api function.
 */
export class Originals extends Construct {
  readonly bucket: s3.Bucket;
  readonly #key: kms.IKey;

  constructor(scope: Construct, id: string, props: OriginalsProps) {
    super(scope, id);
    this.#key = props.key;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      // One data key per bucket instead of a KMS call per object; the encryption context is the bucket ARN.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'ExpireUnfinishedUploads',
          tagFilters: { [UNFINISHED_UPLOAD_TAG.key]: UNFINISHED_UPLOAD_TAG.value },
          expiration: Duration.days(UNFINISHED_UPLOAD_EXPIRY_DAYS),
        },
      ],
      cors:
        props.corsOrigins.length > 0
          ? [
              {
                allowedOrigins: [...props.corsOrigins],
                allowedMethods: [s3.HttpMethods.PUT],
                allowedHeaders: ['content-type', 'x-amz-tagging'],
                exposedHeaders: ['etag'],
                maxAge: 3600,
              },
            ]
          : undefined,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs would need a second bucket per stage; object reads and writes are made by the stack functions, whose requests are logged, and CloudTrail data events can be enabled account-wide.',
    });
  }

  /** The api function: presigns PUTs (tagged as unfinished), stores small multipart files, HEADs on completion. */
  grantUpload(fn: lambda.IFunction): void {
    this.#allow(fn, ['s3:PutObject', 's3:PutObjectTagging', 's3:GetObject']);
    this.#allowKey(fn, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /** The ingest function: reads originals, takes them out of the expiry, deletes a deleted source's files. */
  grantReadAndDelete(fn: lambda.IFunction): void {
    this.#allow(fn, ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectTagging']);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [TENANT_OBJECTS] } },
      }),
    );
    this.#allowKey(fn, ['kms:Decrypt']);
  }

  #allow(fn: lambda.IFunction, actions: string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions, resources: [this.bucket.arnForObjects(TENANT_OBJECTS)] }),
    );
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${TENANT_OBJECTS}]`,
        reason:
          'Object keys are tenants/{tenant}/sources/{source}/…, created at run time: the grant covers the tenants/ prefix of this one bucket, and the tenant part of each key comes from the authenticated credential.',
      });
    }
  }

  /** Use of the key only by S3, for this bucket (the Bucket Key's encryption context). */
  #allowKey(fn: lambda.IFunction, actions: string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.#key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:aws:s3:arn': this.bucket.bucketArn,
          },
        },
      }),
    );
  }
}
