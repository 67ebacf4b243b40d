import { describe, expect, it } from 'vitest';
import { idOf, render, synth } from './helpers';

describe('outputs', () => {
  it.each([[{}], [{ privateBucket: 'true' }]])('public URL, bucket name, database endpoint (%j)', (ctx) => {
    const { json } = synth(ctx as Record<string, string>);
    const web = idOf(json, 'AWS::EC2::Instance', 'Web');
    const db = idOf(json, 'AWS::RDS::DBInstance', 'Db');
    const bucket = idOf(json, 'AWS::S3::Bucket', 'Uploads');
    expect(render(json.Outputs.PublicUrl.Value)).toBe(`http://\${${web}.PublicDnsName}`);
    expect(json.Outputs.BucketName.Value).toEqual({ Ref: bucket });
    expect(json.Outputs.DatabaseEndpoint.Value).toEqual({ 'Fn::GetAtt': [db, 'Endpoint.Address'] });
    expect(json.Outputs.InstanceId.Value).toEqual({ Ref: web });
    expect(json.Outputs.DatabaseSecretArn).toBeDefined();
  });

  it('CloudFront URL only in private bucket mode', () => {
    expect(synth().json.Outputs.ImagesBaseUrl).toBeUndefined();
    const { json } = synth({ privateBucket: 'true' });
    const cdn = idOf(json, 'AWS::CloudFront::Distribution', 'Cdn');
    expect(render(json.Outputs.ImagesBaseUrl.Value)).toBe(`https://\${${cdn}.DomainName}`);
  });
});
