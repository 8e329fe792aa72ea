import { createHash } from 'node:crypto';
import { Fn } from 'aws-cdk-lib';
import {
  CfnVPCEndpoint,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  type ISecurityGroup,
  type ISubnet,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  Subnet,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { Contract, DatabaseNetworkConfig } from '../../lambdas/shared/contract.js';

export interface DatabaseNetworkProps {
  /** The VPC, subnets, security groups and port of the database, as the contracts name them. */
  readonly network: DatabaseNetworkConfig;
  /** The datasets read from this database, for descriptions. */
  readonly datasets: readonly string[];
}

/**
 * Where an ingest function reaches a PostgreSQL database that only answers inside its VPC.
 *
 * The VPC, subnets and the database's security groups are imported by id, so `cdk synth` needs no
 * AWS account. The function gets a security group of its own whose egress is the database's
 * security groups on the database port, and HTTPS for S3 and Secrets Manager (through the VPC's
 * endpoints or NAT); each database security group gets one ingress rule, from that group only, on
 * that port. With `network.endpoints`, the S3 gateway endpoint and the Secrets Manager interface
 * endpoint are created too.
 */
export class DatabaseNetwork extends Construct {
  public readonly vpc: IVpc;
  /** The subnets the function's network interfaces are placed in. */
  public readonly subnets: readonly ISubnet[];
  /** The function's security group. */
  public readonly securityGroup: SecurityGroup;
  /** The database's security groups, imported. */
  public readonly databaseSecurityGroups: readonly ISecurityGroup[];
  /** The endpoints created when the contract asks for them. */
  public readonly endpoints?: {
    readonly s3: CfnVPCEndpoint;
    readonly secretsManager: CfnVPCEndpoint;
    /** The Secrets Manager endpoint's security group: HTTPS in from the ingest functions of this VPC. */
    readonly securityGroup: SecurityGroup;
  };

  constructor(scope: Construct, id: string, props: DatabaseNetworkProps) {
    super(scope, id);
    const { network } = props;
    const datasets = props.datasets.join(', ');
    // The region's zones as a CloudFormation list, not a lookup: the function's subnets are selected
    // by id, never by zone, so nothing in the template refers to them.
    this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: network.vpc_id,
      availabilityZones: Fn.getAzs(),
    });
    this.subnets = network.subnet_ids.map((subnetId) => Subnet.fromSubnetId(this, subnetId, subnetId));
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: `Sluice ingest of ${datasets}: PostgreSQL on port ${network.port} and HTTPS to AWS endpoints`,
      allowAllOutbound: false,
    });
    this.databaseSecurityGroups = network.security_group_ids.map((groupId) =>
      SecurityGroup.fromSecurityGroupId(this, groupId, groupId),
    );
    for (const database of this.databaseSecurityGroups) {
      // An egress rule on the function's group and an ingress rule on the database's group.
      this.securityGroup.connections.allowTo(
        database,
        Port.tcp(network.port),
        `Sluice ingest of ${datasets} to PostgreSQL`,
      );
    }
    // S3 behind a gateway endpoint is reached at its public addresses, whose prefix list differs by
    // region and would need a lookup at synth; the VPC's routes decide where HTTPS can go.
    this.securityGroup.addEgressRule(
      Peer.anyIpv4(),
      Port.tcp(443),
      'HTTPS to S3 and Secrets Manager (endpoints or NAT)',
    );

    if (network.endpoints) {
      const endpointGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: `Sluice: the Secrets Manager endpoint of ${network.vpc_id}, HTTPS from ingest functions`,
        allowAllOutbound: false,
      });
      endpointGroup.addIngressRule(this.securityGroup, Port.tcp(443), `Sluice ingest of ${datasets}`);
      this.endpoints = {
        securityGroup: endpointGroup,
        s3: new CfnVPCEndpoint(this, 'S3Endpoint', {
          vpcId: network.vpc_id,
          serviceName: GatewayVpcEndpointAwsService.S3.name,
          vpcEndpointType: 'Gateway',
          routeTableIds: network.endpoints.route_table_ids,
        }),
        secretsManager: new CfnVPCEndpoint(this, 'SecretsManagerEndpoint', {
          vpcId: network.vpc_id,
          serviceName: InterfaceVpcEndpointAwsService.SECRETS_MANAGER.name,
          vpcEndpointType: 'Interface',
          subnetIds: network.subnet_ids,
          securityGroupIds: [endpointGroup.securityGroupId],
          // The SDK's default Secrets Manager host then resolves to the endpoint.
          privateDnsEnabled: true,
        }),
      };
    }
  }

  /** Lets the ingest function of another network in the same VPC use this network's endpoints. */
  public shareEndpointsWith(other: DatabaseNetwork): void {
    if (!this.endpoints || other === this) return;
    this.endpoints.securityGroup.addIngressRule(
      other.securityGroup,
      Port.tcp(443),
      'Sluice ingest of another database in this VPC',
    );
  }
}

/** The database networks the contracts name, each with its datasets, keyed by `networkId`. */
export function databaseNetworks(
  contracts: ReadonlyMap<string, Contract>,
): Map<string, { network: DatabaseNetworkConfig; datasets: string[] }> {
  const networks = new Map<string, { network: DatabaseNetworkConfig; datasets: string[] }>();
  const sorted = [...contracts.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const contract of sorted) {
    if (contract.source.type !== 'postgres' || !contract.source.network) continue;
    const network = contract.source.network;
    const id = networkId(network);
    const known = networks.get(id);
    if (!known) {
      networks.set(id, { network, datasets: [contract.name] });
      continue;
    }
    known.datasets.push(contract.name);
    if (!known.network.endpoints && network.endpoints) known.network = network;
  }
  assertOneEndpointSetPerVpc(sorted);
  return networks;
}

/**
 * A stable name for one database network: its VPC id and a hash of its subnets, security groups
 * and port. Construct ids and state names are made from it, so that adding another network does not
 * rename (and replace) the functions of the others.
 */
export function networkId(network: DatabaseNetworkConfig): string {
  const key = JSON.stringify([
    network.vpc_id,
    [...network.subnet_ids].sort(),
    [...network.security_group_ids].sort(),
    network.port,
  ]);
  return `${network.vpc_id}-${createHash('sha256').update(key).digest('hex').slice(0, 6)}`;
}

/**
 * A VPC holds one S3 gateway endpoint per route table and one Secrets Manager endpoint with private
 * DNS: two contracts that ask for different ones in the same VPC would fail at deploy, so refuse
 * them at synth. The same request from several contracts is created once.
 */
function assertOneEndpointSetPerVpc(contracts: readonly Contract[]): void {
  const byVpc = new Map<string, { dataset: string; network: DatabaseNetworkConfig }>();
  for (const contract of contracts) {
    if (contract.source.type !== 'postgres') continue;
    const network = contract.source.network;
    if (!network?.endpoints) continue;
    const first = byVpc.get(network.vpc_id);
    if (!first) {
      byVpc.set(network.vpc_id, { dataset: contract.name, network });
      continue;
    }
    if (networkId(first.network) !== networkId(network) || !sameSet(first.network, network)) {
      throw new Error(
        `datasets '${first.dataset}' and '${contract.name}' both ask for VPC endpoints in ${network.vpc_id}; a VPC holds one set: ask for them in one contract, or in contracts with the same subnet_ids, security_group_ids, port and route_table_ids`,
      );
    }
  }
}

function sameSet(a: DatabaseNetworkConfig, b: DatabaseNetworkConfig): boolean {
  const tables = (n: DatabaseNetworkConfig) =>
    JSON.stringify([...(n.endpoints?.route_table_ids ?? [])].sort());
  return tables(a) === tables(b);
}
