# The offset ranges of one dead-letter message (Lambda's record of a Kafka batch it gave up
# on, "KafkaBatchInfo.recordsInfo" keyed "<topic>-<partition>"), one line each:
#   <topic> <partition> <firstOffset> <lastOffset>
.KafkaBatchInfo.recordsInfo
| to_entries[]
| (.key | capture("^(?<topic>.+)-(?<partition>[0-9]+)$")) as $tp
| "\($tp.topic) \($tp.partition) \(.value.firstRecordOffset) \(.value.lastRecordOffset)"
