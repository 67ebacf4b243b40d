import { describe, expect, it } from 'vitest';
import { idOf, idsOfType, synth } from './helpers';

function bucket(json: any) {
  return json.Resources[idOf(json, 'AWS::S3::Bucket', 'Uploads')];
}

function bucketPolicy(json: any) {
  const ids = idsOfType(json, 'AWS::S3::BucketPolicy');
  expect(ids).toHaveLength(1);
  return json.Resources[ids[0]].Properties.PolicyDocument.Statement;
}

const COMMON = {
  BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
  LifecycleConfiguration: {
    Rules: [{ Id: 'abort-incomplete-multipart', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 }, Status: 'Enabled' }],
  },
};

function denyInsecure(json: any) {
  const id = idOf(json, 'AWS::S3::Bucket', 'Uploads');
  return {
    Action: 's3:*',
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Resource: [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/*']] }],
  };
}

describe('S3 bucket, public mode (default)', () => {
  it('permits public-read object ACLs but no public bucket policy', () => {
    const { json } = synth();
    const b = bucket(json);
    expect(b.Properties).toMatchObject(COMMON);
    expect(b.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] });
    expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(b.Properties.LifecycleConfiguration.Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeGreaterThanOrEqual(1);
    expect(b.Properties.LifecycleConfiguration.Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeLessThanOrEqual(7);
  });

  it('enforces TLS and has no other bucket policy statement', () => {
    const { json } = synth();
    expect(bucketPolicy(json)).toEqual([denyInsecure(json)]);
  });

  it('is retained on stack deletion (images are user data)', () => {
    const b = bucket(synth().json);
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.UpdateReplacePolicy).toBe('Retain');
  });

  it('has no CloudFront distribution', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
  });
});

describe('S3 bucket, privateBucket=true', () => {
  const ctx = { privateBucket: 'true' };

  it('blocks all public access and disables ACLs', () => {
    const { json } = synth(ctx);
    const b = bucket(json);
    expect(b.Properties).toMatchObject(COMMON);
    expect(b.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
  });

  it('is served by CloudFront through an origin access control', () => {
    const { json } = synth(ctx);
    const oac = idOf(json, 'AWS::CloudFront::OriginAccessControl', 'Cdn');
    expect(json.Resources[oac].Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const cdn = idOf(json, 'AWS::CloudFront::Distribution', 'Cdn');
    const config = json.Resources[cdn].Properties.DistributionConfig;
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].DomainName).toEqual({
      'Fn::GetAtt': [idOf(json, 'AWS::S3::Bucket', 'Uploads'), 'RegionalDomainName'],
    });
    expect(config.Origins[0].OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oac, 'Id'] });
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
  });

  it('bucket policy: TLS only, and reads only by that distribution', () => {
    const { json } = synth(ctx);
    const id = idOf(json, 'AWS::S3::Bucket', 'Uploads');
    const cdn = idOf(json, 'AWS::CloudFront::Distribution', 'Cdn');
    const statements = bucketPolicy(json);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toEqual(denyInsecure(json));
    expect(statements[1]).toMatchObject({
      Action: 's3:GetObject',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/*']] },
    });
    expect(JSON.stringify(statements[1].Condition)).toContain(`{"Ref":"${cdn}"}`);
    expect(Object.keys(statements[1].Condition.StringEquals)).toEqual(['AWS:SourceArn']);
  });
});
