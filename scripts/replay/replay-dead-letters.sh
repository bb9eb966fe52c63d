#!/usr/bin/env bash
# Re-judges the batches the Kafka event source mapping gave up on (docs/operations.md, "The
# dead-letter queue"): for each message in the dead-letter queue, reads its offsets from Kafka
# again with kcat, invokes the detector function with them as the mapping would, and deletes
# the message once the function accepted every chunk. The function judges records it never
# applied and ignores those it already did, so running this twice changes nothing.
#
#   scripts/replay/replay-dead-letters.sh QUEUE_URL FUNCTION_NAME BROKERS [kcat options...]
#
# kcat options carry the brokers' auth, as for any kcat consumer, e.g.
#   -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=... -X sasl.password=...
# Needs the AWS CLI (sqs receive-message/delete-message, lambda invoke), kcat and jq.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,13p' "$0"; exit 2; }
queue=$1 function=$2 brokers=$3
shift 3
here=$(dirname "$0")
# Invoke's synchronous payload limit is 6 MB: a few thousand readings per call stay below it.
chunk=${REPLAY_CHUNK_RECORDS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

while :; do
  aws sqs receive-message --queue-url "$queue" --max-number-of-messages 1 \
    --visibility-timeout 900 --output json >"$work/message.json"
  [ "$(jq '.Messages | length' "$work/message.json")" -gt 0 ] || { echo 'dead-letter queue empty'; break; }
  receipt=$(jq -r '.Messages[0].ReceiptHandle' "$work/message.json")
  jq -r '.Messages[0].Body | fromjson' "$work/message.json" |
    jq -r -f "$here/dead-letter-ranges.jq" >"$work/ranges"
  while read -r topic partition first last; do
    offset=$first
    while [ "$offset" -le "$last" ]; do
      count=$(( last - offset + 1 < chunk ? last - offset + 1 : chunk ))
      kcat -C -b "$brokers" "$@" -t "$topic" -p "$partition" -o "$offset" -c "$count" -e -J -q |
        jq -s --arg brokers "$brokers" -f "$here/kcat-to-kafka-event.jq" >"$work/event.json"
      aws lambda invoke --function-name "$function" --cli-binary-format raw-in-base64-out \
        --payload "fileb://$work/event.json" "$work/result.json" --output json >"$work/invoke.json"
      if jq -e '.FunctionError' "$work/invoke.json" >/dev/null; then
        echo "the function failed on $topic-$partition from offset $offset: $(cat "$work/result.json")" >&2
        exit 1
      fi
      echo "re-judged $topic-$partition offsets $offset-$(( offset + count - 1 ))"
      offset=$(( offset + count ))
    done
  done <"$work/ranges"
  aws sqs delete-message --queue-url "$queue" --receipt-handle "$receipt"
done
