/**
 * Context options for the SnapStore stack (`npx cdk deploy -c key=value`).
 *
 * Everything arrives as a string from the command line (or as JSON types from
 * cdk.json), so every option is parsed and validated here; a bad value fails
 * synth with a message naming the option instead of producing a half-right
 * template.
 */

export const DEFAULT_REPO_URL = 'https://github.com/CHANGE-ME/snapstore.git';
export const DEFAULT_REPO_REF = 'main';
export const DEFAULT_REGION = 'us-east-1';

export interface SnapStoreConfig {
  /** Stack name. */
  readonly stackName: string;
  /** Target account; unset = whatever credentials `cdk deploy` runs with. */
  readonly account?: string;
  /** Target region. */
  readonly region: string;
  /** CIDR allowed to reach SSH (22). Unset = no SSH rule at all (use Session Manager). */
  readonly adminCidr?: string;
  /** NAT gateways. 0 = none (the web host is in a public subnet; RDS needs no egress). */
  readonly natGateways: number;
  /** true = private bucket behind CloudFront (OAC) instead of public-read object ACLs. */
  readonly privateBucket: boolean;
  /** RDS deletion protection. */
  readonly deletionProtection: boolean;
  /** Git URL the instance clones the app from (must be readable without credentials). */
  readonly repoUrl: string;
  /** Branch, tag or commit to deploy. */
  readonly repoRef: string;
  /** EC2 instance type of the web host. */
  readonly instanceType: string;
  /** RDS instance class (without the `db.` prefix). */
  readonly dbInstanceClass: string;
  /** RDS allocated storage in GiB. */
  readonly dbAllocatedStorage: number;
  /**
   * MySQL major version: "8.4" (LTS, default) or "8.0". RDS standard support
   * for 8.0 ended 2026-07-31: an 8.0 instance is billed RDS Extended Support.
   * Kept for stacks first deployed with 8.0 (`-c mysqlVersion=8.0`) until they
   * are upgraded.
   */
  readonly mysqlVersion: '8.0' | '8.4';
  /** Days of automated RDS backups (>= 7). */
  readonly dbBackupRetentionDays: number;
  /** Optional pinned AMI id; unset = latest Amazon Linux 2023 via SSM parameter at deploy time. */
  readonly amiId?: string;
}

/** Minimal view of a construct node's context, so tests can pass a plain map. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

function str(ctx: ContextSource, key: string): string | undefined {
  const v = ctx.tryGetContext(key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw new Error(`context "${key}" must be a string, got ${JSON.stringify(v)}`);
  }
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

function bool(ctx: ContextSource, key: string, dflt: boolean): boolean {
  const s = str(ctx, key);
  if (s === undefined) return dflt;
  if (/^(true|1|yes)$/i.test(s)) return true;
  if (/^(false|0|no)$/i.test(s)) return false;
  throw new Error(`context "${key}" must be true or false, got "${s}"`);
}

function int(ctx: ContextSource, key: string, dflt: number, min: number, max: number): number {
  const s = str(ctx, key);
  if (s === undefined) return dflt;
  if (!/^\d+$/.test(s)) throw new Error(`context "${key}" must be an integer, got "${s}"`);
  const n = Number(s);
  if (n < min || n > max) throw new Error(`context "${key}" must be between ${min} and ${max}, got ${n}`);
  return n;
}

const CIDR_V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function validateCidr(cidr: string): string {
  const m = CIDR_V4.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
    throw new Error(`context "adminCidr" must be an IPv4 CIDR like 203.0.113.7/32, got "${cidr}"`);
  }
  if (Number(m[5]) === 0) {
    throw new Error('context "adminCidr" must not be 0.0.0.0/0: SSH open to the world is not allowed (use Session Manager)');
  }
  return cidr;
}

export function readConfig(ctx: ContextSource, env: NodeJS.ProcessEnv = {}): SnapStoreConfig {
  const adminCidr = str(ctx, 'adminCidr');
  const repoRef = str(ctx, 'repoRef') ?? DEFAULT_REPO_REF;
  if (!/^[A-Za-z0-9._\/-]+$/.test(repoRef) || repoRef.startsWith('-')) {
    throw new Error(`context "repoRef" must be a plain branch, tag or commit name, got "${repoRef}"`);
  }
  const repoUrl = str(ctx, 'repoUrl') ?? DEFAULT_REPO_URL;
  if (!/^(https:\/\/|git@|ssh:\/\/)[^\s'"`$\\;&|<>]+$/.test(repoUrl)) {
    throw new Error(`context "repoUrl" must be an https:// or ssh git URL without shell metacharacters, got "${repoUrl}"`);
  }
  const amiId = str(ctx, 'amiId');
  if (amiId !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(amiId)) {
    throw new Error(`context "amiId" must look like ami-0123456789abcdef0, got "${amiId}"`);
  }
  const account = str(ctx, 'account');
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    throw new Error(`context "account" must be a 12-digit AWS account id, got "${account}"`);
  }
  const mysqlVersion = str(ctx, 'mysqlVersion') ?? '8.4';
  if (mysqlVersion !== '8.0' && mysqlVersion !== '8.4') {
    throw new Error(`context "mysqlVersion" must be 8.4 or 8.0, got "${mysqlVersion}"`);
  }
  return {
    stackName: str(ctx, 'stackName') ?? 'SnapStore',
    account,
    region: str(ctx, 'region') ?? env.CDK_DEFAULT_REGION ?? DEFAULT_REGION,
    adminCidr: adminCidr === undefined ? undefined : validateCidr(adminCidr),
    natGateways: int(ctx, 'natGateways', 0, 0, 2),
    privateBucket: bool(ctx, 'privateBucket', false),
    deletionProtection: bool(ctx, 'deletionProtection', true),
    repoUrl,
    repoRef,
    instanceType: str(ctx, 'instanceType') ?? 't4g.small',
    dbInstanceClass: (str(ctx, 'dbInstanceClass') ?? 't4g.micro').replace(/^db\./, ''),
    mysqlVersion,
    dbAllocatedStorage: int(ctx, 'dbAllocatedStorage', 20, 20, 16384),
    dbBackupRetentionDays: int(ctx, 'dbBackupRetentionDays', 7, 7, 35),
    amiId,
  };
}
