#!/usr/bin/env bash
# Runs the local pipeline against the stack deployed by scripts/localstack-deploy.sh: Kafka
# from Redpanda (localhost:9092), the stack's DynamoDB table and SNS topic on LocalStack.
# The local poller stands in for the Kafka event source mapping (a LocalStack Pro feature).
# Extra arguments go to `npm start` (e.g. --duration 0 --rate 50). Not run by CI (no Docker).
set -euo pipefail
cd "$(dirname "$0")/.."

ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
OUTPUTS="cdk.out/localstack-outputs.json"

if [[ ! -f "$OUTPUTS" ]]; then
  echo "$OUTPUTS not found: run scripts/localstack-deploy.sh first." >&2
  exit 1
fi

# The stack's outputs: {"<StackName>": {"TableName": "...", "AlertTopicArn": "...", ...}}.
read -r TABLE TOPIC_ARN < <(node -e '
  const outputs = Object.values(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")))[0] ?? {};
  if (!outputs.TableName || !outputs.AlertTopicArn) { console.error("TableName/AlertTopicArn missing in outputs"); process.exit(1); }
  console.log(outputs.TableName, outputs.AlertTopicArn);
' "$OUTPUTS")

exec npm start -- \
  --brokers "$BROKERS" \
  --dynamodb-endpoint "$ENDPOINT" \
  --sns-endpoint "$ENDPOINT" \
  --table-name "$TABLE" \
  --topic-arn "$TOPIC_ARN" \
  "$@"
