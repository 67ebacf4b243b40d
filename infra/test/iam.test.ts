import { describe, expect, it } from 'vitest';
import { idOf, idsOfType, synth } from './helpers';

function webRole(json: any) {
  return idOf(json, 'AWS::IAM::Role', 'WebRole');
}

/** All statements of all inline policies attached to the web role. */
function webStatements(json: any): any[] {
  const role = webRole(json);
  const policies = idsOfType(json, 'AWS::IAM::Policy')
    .map((id) => json.Resources[id].Properties)
    .filter((p: any) => p.Roles.some((r: any) => r.Ref === role));
  expect(policies).toHaveLength(1);
  return policies[0].PolicyDocument.Statement;
}

const bucketObjects = (bucket: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] });

describe('web host role', () => {
  it('is assumable by EC2 only and has Session Manager (AmazonSSMManagedInstanceCore) and nothing else managed', () => {
    const { json } = synth();
    const role = json.Resources[webRole(json)].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
    ]);
    expect(role.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] },
    ]);
    expect(role.Policies).toBeUndefined();
  });

  it('public bucket mode: exactly Put/PutAcl/Get/Delete on bucket/*, ListBucket on the bucket, GetSecretValue on the DB secret', () => {
    const { json } = synth();
    const bucket = idOf(json, 'AWS::S3::Bucket', 'Uploads');
    const secretRef = { Ref: idOf(json, 'AWS::SecretsManager::SecretTargetAttachment', 'DbSecretAttachment') };
    expect(webStatements(json)).toEqual([
      {
        Sid: 'UploadObjects',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject', 's3:PutObjectAcl'],
        Resource: bucketObjects(bucket),
      },
      { Sid: 'ListUploads', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
      { Sid: 'ReadDbSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretRef },
    ]);
  });

  it('private bucket mode: the same without s3:PutObjectAcl', () => {
    const { json } = synth({ privateBucket: 'true' });
    const bucket = idOf(json, 'AWS::S3::Bucket', 'Uploads');
    const secretRef = { Ref: idOf(json, 'AWS::SecretsManager::SecretTargetAttachment', 'DbSecretAttachment') };
    expect(webStatements(json)).toEqual([
      {
        Sid: 'UploadObjects',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: bucketObjects(bucket),
      },
      { Sid: 'ListUploads', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
      { Sid: 'ReadDbSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretRef },
    ]);
  });

  it('the secret ARN granted is the one the DB uses and the user data reads', () => {
    const { json } = synth();
    const attachment = idOf(json, 'AWS::SecretsManager::SecretTargetAttachment', 'DbSecretAttachment');
    const secret = idOf(json, 'AWS::SecretsManager::Secret', 'SnapStoreDbSecret');
    expect(json.Resources[attachment].Properties.SecretId).toEqual({ Ref: secret });
  });

  it('no other role in the stack can touch the bucket or the secret', () => {
    const { json } = synth({ privateBucket: 'true' });
    const web = webRole(json);
    const others = idsOfType(json, 'AWS::IAM::Policy')
      .map((id) => json.Resources[id].Properties)
      .filter((p: any) => !p.Roles.some((r: any) => r.Ref === web));
    const otherRoles = idsOfType(json, 'AWS::IAM::Role')
      .filter((id) => id !== web)
      .map((id) => json.Resources[id].Properties.Policies ?? []);
    const text = JSON.stringify([others, otherRoles]);
    expect(text).not.toMatch(/s3:|secretsmanager:/);
  });
});
