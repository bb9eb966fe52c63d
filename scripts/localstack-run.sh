#!/usr/bin/env bash
# Stands in for the Kafka event source mapping on LocalStack: polls Redpanda
# (localhost:9092) and invokes the function deployed by scripts/localstack-deploy.sh through
# LocalStack's Lambda API (local/poller/lambda-poller-main.ts), committing offsets only after
# the function succeeded. The function itself uses the stack's DynamoDB table and SNS topic on
# LocalStack.
#
#   scripts/localstack-run.sh                 poller → Lambda Invoke (the deployed function)
#   scripts/localstack-run.sh --in-process    the handler in this process instead (npm start),
#                                             against the stack's table and topic; extra
#                                             arguments go to `npm start`
#
# Not run by CI (no Docker engine there).
set -euo pipefail
cd "$(dirname "$0")/.."

ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
OUTPUTS="cdk.out/localstack-outputs.json"

if [[ ! -f "$OUTPUTS" ]]; then
  echo "$OUTPUTS not found: run scripts/localstack-deploy.sh first." >&2
  exit 1
fi

# The stack's outputs: {"<StackName>": {"FunctionName": "...", "TableName": "...", ...}}.
read -r FUNCTION TABLE TOPIC_ARN < <(node -e '
  const outputs = Object.values(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")))[0] ?? {};
  for (const key of ["FunctionName", "TableName", "AlertTopicArn"]) {
    if (!outputs[key]) { console.error(`${key} missing in outputs`); process.exit(1); }
  }
  console.log(outputs.FunctionName, outputs.TableName, outputs.AlertTopicArn);
' "$OUTPUTS")

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

if [[ "${1:-}" == "--in-process" ]]; then
  shift
  exec npm start -- \
    --brokers "$BROKERS" \
    --dynamodb-endpoint "$ENDPOINT" \
    --sns-endpoint "$ENDPOINT" \
    --table-name "$TABLE" \
    --topic-arn "$TOPIC_ARN" \
    "$@"
fi

FUNCTION_NAME="$FUNCTION" LAMBDA_ENDPOINT="$ENDPOINT" KAFKA_BROKERS="$BROKERS" \
  TOPICS="${TOPICS:-sensor-data}" GROUP_ID="${GROUP_ID:-anomaly-detector-localstack}" \
  exec npx tsx local/poller/lambda-poller-main.ts
