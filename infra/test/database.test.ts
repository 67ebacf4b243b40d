import { describe, expect, it } from 'vitest';
import { idOf, idsOfType, synth } from './helpers';

function db(json: any) {
  return json.Resources[idOf(json, 'AWS::RDS::DBInstance', 'Db')];
}

describe('RDS MySQL', () => {
  it('is MySQL 8.4 (LTS) by default on a small instance class, not public, encrypted, with >= 7 days of backups', () => {
    const { json } = synth();
    const p = db(json).Properties;
    expect(p.Engine).toBe('mysql');
    expect(p.EngineVersion).toBe('8.4');
    expect(p.DBInstanceClass).toBe('db.t4g.micro');
    expect(p.PubliclyAccessible).toBe(false);
    expect(p.StorageEncrypted).toBe(true);
    expect(p.BackupRetentionPeriod).toBe(7);
    expect(p.BackupRetentionPeriod).toBeGreaterThanOrEqual(7);
    expect(p.MultiAZ).toBe(false);
    expect(p.DBName).toBe('snapstore');
    expect(p.AllocatedStorage).toBe('20');
  });

  it('lives in the isolated subnets, behind the DB security group only', () => {
    const { json } = synth();
    const p = db(json).Properties;
    const group = json.Resources[p.DBSubnetGroupName.Ref];
    expect(group.Type).toBe('AWS::RDS::DBSubnetGroup');
    const isolated = idsOfType(json, 'AWS::EC2::Subnet')
      .filter((id) => id.startsWith('VpcDbSubnet'))
      .map((id) => ({ Ref: id }));
    expect(isolated).toHaveLength(2);
    expect(group.Properties.SubnetIds).toEqual(isolated);
    expect(p.VPCSecurityGroups).toEqual([{ 'Fn::GetAtt': [idOf(json, 'AWS::EC2::SecurityGroup', 'DbSg'), 'GroupId'] }]);
  });

  it('takes generated credentials from Secrets Manager', () => {
    const { json } = synth();
    const secretId = idOf(json, 'AWS::SecretsManager::Secret', 'SnapStoreDbSecret');
    const secret = json.Resources[secretId].Properties;
    expect(secret.GenerateSecretString).toMatchObject({
      GenerateStringKey: 'password',
      SecretStringTemplate: '{"username":"snapstore"}',
    });
    // characters that would need escaping in a URL or shell never appear
    for (const c of ['@', '/', ':', '?', '#', '%', '&', '"', "'", '\\', ' ']) {
      expect(secret.GenerateSecretString.ExcludeCharacters).toContain(c);
    }
    const p = db(json).Properties;
    expect(p.MasterUsername).toBe('snapstore');
    expect(JSON.stringify(p.MasterUserPassword)).toContain(`{"Ref":"${secretId}"}`);
    expect(JSON.stringify(p.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
  });

  it('requires TLS (the app connects with DATABASE_TLS=rds)', () => {
    const { json } = synth();
    const pg = json.Resources[db(json).Properties.DBParameterGroupName.Ref];
    expect(pg.Type).toBe('AWS::RDS::DBParameterGroup');
    expect(pg.Properties.Family).toBe('mysql8.4');
    expect(pg.Properties.Parameters).toEqual({ require_secure_transport: '1' });
  });

  it('snapshots on delete/replace; deletion protection on by default and configurable', () => {
    const on = db(synth().json);
    expect(on.DeletionPolicy).toBe('Snapshot');
    expect(on.UpdateReplacePolicy).toBe('Snapshot');
    expect(on.Properties.DeletionProtection).toBe(true);
    expect(db(synth({ deletionProtection: 'false' }).json).Properties.DeletionProtection).toBe(false);
  });

  it('mysqlVersion=8.0 is still possible (stacks first deployed with 8.0): engine and parameter group family', () => {
    const { json } = synth({ mysqlVersion: '8.0' });
    expect(db(json).Properties.EngineVersion).toBe('8.0');
    const pg = json.Resources[db(json).Properties.DBParameterGroupName.Ref].Properties;
    expect(pg.Family).toBe('mysql8.0');
    expect(pg.Parameters).toEqual({ require_secure_transport: '1' });
    expect(pg.Description).toBe('SnapStore MySQL 8.0: TLS required');
  });

  it('an explicit mysqlVersion=8.4 is the default template', () => {
    expect(synth({ mysqlVersion: '8.4' }).json).toEqual(synth().json);
  });

  it('backup retention and instance class are configurable, never below 7 days', () => {
    const p = db(synth({ dbBackupRetentionDays: '14', dbInstanceClass: 'db.t4g.small' }).json).Properties;
    expect(p.BackupRetentionPeriod).toBe(14);
    expect(p.DBInstanceClass).toBe('db.t4g.small');
    expect(() => synth({ dbBackupRetentionDays: '3' })).toThrow(/between 7 and 35/);
  });
});
