import * as cdk from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { SnapStoreConfig } from './config';
import { userDataCommands } from './user-data';

export const DB_NAME = 'snapstore';
export const DB_USER = 'snapstore';

export interface SnapStoreStackProps extends cdk.StackProps {
  readonly config: SnapStoreConfig;
}

/**
 * One web host (nginx + Node) in a public subnet, RDS MySQL 8.4 in isolated
 * subnets, and an S3 bucket for the images (public-read object ACLs, or
 * private behind CloudFront with `privateBucket=true`).
 */
export class SnapStoreStack extends cdk.Stack {
  public readonly vpc: ec2.Vpc;
  public readonly webSecurityGroup: ec2.SecurityGroup;
  public readonly dbSecurityGroup: ec2.SecurityGroup;
  public readonly bucket: s3.Bucket;
  public readonly database: rds.DatabaseInstance;
  public readonly instance: ec2.Instance;
  public readonly role: iam.Role;
  public readonly distribution?: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: SnapStoreStackProps) {
    super(scope, id, props);
    const cfg = props.config;

    // ---------------------------------------------------------------- network
    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'Db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ];
    if (cfg.natGateways > 0) {
      // Only useful for hosts you add later in private subnets; the web host
      // and RDS need no NAT (public IP / no egress).
      subnetConfiguration.push({ name: 'App', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 });
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      maxAzs: 2,
      natGateways: cfg.natGateways,
      subnetConfiguration,
      gatewayEndpoints: {
        // S3 traffic from the host stays on the AWS network and costs no NAT/IGW data.
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });

    this.webSecurityGroup = new ec2.SecurityGroup(this, 'WebSg', {
      vpc: this.vpc,
      description: 'SnapStore web host: HTTP/HTTPS from anywhere, SSH only from adminCidr',
      allowAllOutbound: true, // dnf, npm, git, S3, Secrets Manager, RDS
    });
    this.webSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from anywhere');
    this.webSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from anywhere');
    if (cfg.adminCidr !== undefined) {
      this.webSecurityGroup.addIngressRule(ec2.Peer.ipv4(cfg.adminCidr), ec2.Port.tcp(22), 'SSH from adminCidr');
    }

    this.dbSecurityGroup = new ec2.SecurityGroup(this, 'DbSg', {
      vpc: this.vpc,
      description: 'SnapStore RDS: MySQL from the web host only',
      allowAllOutbound: false,
    });
    this.dbSecurityGroup.addIngressRule(this.webSecurityGroup, ec2.Port.tcp(3306), 'MySQL from the web host');

    // ---------------------------------------------------------------- storage
    this.bucket = new s3.Bucket(this, 'Uploads', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      objectOwnership: cfg.privateBucket
        ? s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
        : s3.ObjectOwnership.BUCKET_OWNER_PREFERRED, // ACLs must be honoured for public-read
      blockPublicAccess: cfg.privateBucket
        ? s3.BlockPublicAccess.BLOCK_ALL
        : new s3.BlockPublicAccess({
            // the app uploads objects with ACL public-read ...
            blockPublicAcls: false,
            ignorePublicAcls: false,
            // ... but nobody can make the bucket itself public through a policy
            blockPublicPolicy: true,
            restrictPublicBuckets: true,
          }),
      lifecycleRules: [{ id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: cdk.Duration.days(3) }],
      // Images are user data: keep the bucket on `cdk destroy` (delete by hand).
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    if (cfg.privateBucket) {
      this.distribution = new cloudfront.Distribution(this, 'Cdn', {
        comment: 'SnapStore images',
        defaultBehavior: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          compress: false, // images are already compressed
        },
        priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
        httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      });
    }

    // --------------------------------------------------------------- database
    // Major version only ("8.4", or "8.0" on request): RDS picks the current minor and
    // autoMinorVersionUpgrade moves it forward without template drift.
    const engine = rds.DatabaseInstanceEngine.mysql({
      version: cfg.mysqlVersion === '8.4' ? rds.MysqlEngineVersion.of('8.4', '8.4') : rds.MysqlEngineVersion.VER_8_0,
    });
    const parameterGroup = new rds.ParameterGroup(this, 'DbParams', {
      engine,
      description: `SnapStore MySQL ${cfg.mysqlVersion}: TLS required`,
      // The app connects with DATABASE_TLS=rds; refuse plaintext connections.
      parameters: { require_secure_transport: '1' },
    });
    this.database = new rds.DatabaseInstance(this, 'Db', {
      engine,
      instanceType: new ec2.InstanceType(cfg.dbInstanceClass),
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.dbSecurityGroup],
      publiclyAccessible: false,
      multiAz: false,
      databaseName: DB_NAME,
      credentials: rds.Credentials.fromGeneratedSecret(DB_USER),
      parameterGroup,
      allocatedStorage: cfg.dbAllocatedStorage,
      maxAllocatedStorage: Math.max(100, cfg.dbAllocatedStorage),
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      backupRetention: cdk.Duration.days(cfg.dbBackupRetentionDays),
      deleteAutomatedBackups: false,
      deletionProtection: cfg.deletionProtection,
      removalPolicy: cdk.RemovalPolicy.SNAPSHOT,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
    });
    // The bundled CloudFormation schema only lists full versions; a major-only
    // EngineVersion is accepted by RDS and intended (see above).
    cdk.Validations.of(this.database).acknowledge({
      id: 'CloudFormation-Validate::E9006',
      reason: `EngineVersion "${cfg.mysqlVersion}" (major only) is accepted by RDS and intended`,
    });
    const dbSecret = this.database.secret!;

    // --------------------------------------------------------------- web host
    this.role = new iam.Role(this, 'WebRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'SnapStore web host',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    // Exactly what the app needs; written out instead of bucket.grantReadWrite(),
    // which would add s3:Abort*, s3:GetBucket*, s3:List* and more.
    const objectActions = ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'];
    if (!cfg.privateBucket) objectActions.splice(1, 0, 's3:PutObjectAcl');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'UploadObjects', actions: objectActions, resources: [this.bucket.arnForObjects('*')] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ListUploads', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDbSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [dbSecret.secretArn],
      }),
    );

    const instanceType = new ec2.InstanceType(cfg.instanceType);
    const machineImage = cfg.amiId
      ? ec2.MachineImage.genericLinux({ [cfg.region]: cfg.amiId })
      : ec2.MachineImage.latestAmazonLinux2023({
          cpuType:
            instanceType.architecture === ec2.InstanceArchitecture.ARM_64
              ? ec2.AmazonLinuxCpuType.ARM_64
              : ec2.AmazonLinuxCpuType.X86_64,
        });

    const userData = ec2.UserData.forLinux();
    this.instance = new ec2.Instance(this, 'Web', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.webSecurityGroup,
      instanceType,
      machineImage,
      role: this.role,
      userData,
      // A changed bootstrap (repoRef, bucket mode, ...) only runs on a new host.
      userDataCausesReplacement: true,
      // IMDSv2 only; hop limit 2 so a container on the host could still reach it.
      httpEndpoint: true,
      httpTokens: ec2.HttpTokens.REQUIRED,
      httpPutResponseHopLimit: 2,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
      // Deployment waits for the bootstrap's cfn-signal (build + /healthz).
      resourceSignalTimeout: cdk.Duration.minutes(30),
    });
    if (cfg.amiId) {
      cdk.Validations.of(this.instance).acknowledge({
        id: 'CloudFormation-Validate::W9010',
        reason: 'amiId pins the AMI on purpose (no replacement when a newer AL2023 AMI is published)',
      });
    }
    userData.addSignalOnExitCommand(this.instance);
    userData.addCommands(
      ...userDataCommands({
        repoUrl: cfg.repoUrl,
        repoRef: cfg.repoRef,
        region: this.region,
        dbSecretArn: dbSecret.secretArn,
        dbHost: this.database.dbInstanceEndpointAddress,
        dbPort: this.database.dbInstanceEndpointPort,
        dbName: DB_NAME,
        bucketName: this.bucket.bucketName,
        s3Acl: cfg.privateBucket ? 'none' : 'public-read',
        publicBaseDomain: this.distribution?.distributionDomainName,
      }),
    );

    // ---------------------------------------------------------------- outputs
    new cdk.CfnOutput(this, 'PublicUrl', {
      description: 'SnapStore URL (nginx on the web host)',
      value: `http://${this.instance.instancePublicDnsName}`,
    });
    new cdk.CfnOutput(this, 'BucketName', { description: 'S3 bucket for uploads', value: this.bucket.bucketName });
    new cdk.CfnOutput(this, 'DatabaseEndpoint', {
      description: 'RDS MySQL endpoint address, port 3306 (reachable from the web host only)',
      value: this.database.dbInstanceEndpointAddress,
    });
    new cdk.CfnOutput(this, 'DatabaseSecretArn', { description: 'DB credentials secret', value: dbSecret.secretArn });
    new cdk.CfnOutput(this, 'InstanceId', {
      description: 'Web host (aws ssm start-session --target <id>)',
      value: this.instance.instanceId,
    });
    if (this.distribution) {
      new cdk.CfnOutput(this, 'ImagesBaseUrl', {
        description: 'CloudFront URL in front of the private bucket',
        value: `https://${this.distribution.distributionDomainName}`,
      });
    }
  }
}
