#!/usr/bin/env bash
# Deploys the CDK stack (infra/) to LocalStack with cdklocal and writes its outputs to
# cdk.out/localstack-outputs.json for scripts/localstack-run.sh. Needs Docker:
# `docker compose up -d` first. Not run by CI (no Docker engine there).
#
# LocalStack's free edition answers a Kafka event source mapping with an error (Kafka
# triggers are a paid feature), so the stack is deployed without one
# (-c eventSourceMapping=false); scripts/localstack-run.sh polls Redpanda and invokes the
# deployed function through LocalStack's Lambda API instead.
set -euo pipefail
cd "$(dirname "$0")/.."

ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
STACK="${STACK_NAME:-SensorAnomalyDetectorLocal}"
OUTPUTS="cdk.out/localstack-outputs.json"

if ! curl -fsS "$ENDPOINT/_localstack/health" >/dev/null; then
  echo "LocalStack is not answering at $ENDPOINT: run \`docker compose up -d\` first." >&2
  exit 1
fi

# LocalStack takes any credentials; these keep the CDK away from a real AWS profile.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="$ENDPOINT" AWS_ENDPOINT_URL_S3="$ENDPOINT"
export CDK_DISABLE_CLI_TELEMETRY=true
# cdklocal wraps the project's own aws-cdk CLI (a pinned devDependency).
CDKLOCAL=(npx --yes aws-cdk-local@3.0.4)

"${CDKLOCAL[@]}" bootstrap --no-notices aws://000000000000/us-east-1
"${CDKLOCAL[@]}" deploy "$STACK" --no-notices --require-approval never \
  -c stackName="$STACK" \
  -c kafkaSource=self-managed \
  -c bootstrapServers=redpanda:29092 \
  -c topics=sensor-data \
  -c eventSourceMapping=false \
  -c removalPolicy=destroy \
  --outputs-file "$OUTPUTS"

echo
echo "Deployed $STACK to LocalStack; outputs in $OUTPUTS."
echo "No Kafka trigger on LocalStack (community): start the poller with scripts/localstack-run.sh"
