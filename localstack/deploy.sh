#!/usr/bin/env bash
# Deploys Sluice into the LocalStack of ./docker-compose.yml with cdklocal, then prints the
# stack outputs. Optional path; see localstack/README.md. Usage:
#   docker compose -f localstack/docker-compose.yml up -d
#   localstack/deploy.sh [extra cdk context, e.g. -c alarmEmail=me@example.com]
set -euo pipefail

cd "$(dirname "$0")/.."

# cdklocal and the CDK CLI it drives, pinned; the CLI is the project's own version.
CDKLOCAL_VERSION="${CDKLOCAL_VERSION:-3.0.4}"
CDK_CLI_VERSION="$(node -p "require('./package.json').devDependencies['aws-cdk']")"

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="$AWS_DEFAULT_REGION"
ACCOUNT="000000000000"
STACK="${SLUICE_STACK:-SluiceLocal}"
OUTPUTS="localstack/outputs.json"

if ! curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null; then
  echo "No LocalStack answers at $AWS_ENDPOINT_URL." >&2
  echo "Start it first: docker compose -f localstack/docker-compose.yml up -d" >&2
  exit 1
fi

cdklocal() {
  npx --yes --package "aws-cdk-local@$CDKLOCAL_VERSION" --package "aws-cdk@$CDK_CLI_VERSION" -- cdklocal "$@"
}

echo "Bootstrapping aws://$ACCOUNT/$AWS_DEFAULT_REGION in LocalStack..."
cdklocal bootstrap "aws://$ACCOUNT/$AWS_DEFAULT_REGION"

echo "Deploying stack $STACK..."
# The dataset repository has no default; LocalStack emulates CodeCommit, so that is the choice here
# unless the arguments make another.
case " $* " in
  *datasetsRepository=* | *datasetRepositoryUrl=*) repository=() ;;
  *) repository=(-c datasetsRepository=codecommit) ;;
esac
# destroy: a LocalStack stack is throwaway, so `cdklocal destroy` may remove its buckets.
cdklocal deploy "$STACK" \
  --require-approval never \
  --outputs-file "$OUTPUTS" \
  -c "stackName=$STACK" \
  -c removalPolicy=destroy \
  "${repository[@]}" \
  "$@"

echo
echo "Outputs of $STACK (also in $OUTPUTS):"
node -e '
  const outputs = require(process.argv[1])[process.argv[2]] ?? {};
  for (const [key, value] of Object.entries(outputs)) console.log(`  ${key.padEnd(26)} ${value}`);
' "./$OUTPUTS" "$STACK"
