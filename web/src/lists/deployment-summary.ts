/**
 * What a deployment did, in words: v0 records a first deployment as moving from a version to itself, which reads
 * as if nothing happened.
 */

export interface DeploymentVersions {
  deployment_id: number;
  start_version: number;
  end_version: number;
}

export function describeDeployment({
  deployment_id,
  start_version,
  end_version,
}: DeploymentVersions): string {
  const id = `#${deployment_id}`;
  if (start_version === end_version || start_version === 0) return `${id}: deployed v${end_version}`;
  if (end_version < start_version) return `${id}: rolled back to v${end_version} from v${start_version}`;
  return `${id}: deployed v${end_version}, replacing v${start_version}`;
}
