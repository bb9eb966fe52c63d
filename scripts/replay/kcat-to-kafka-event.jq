# kcat's JSON records (`kcat -C -J`, slurped with `jq -s`) as the event a self-managed Kafka
# event source mapping gives the function: records grouped by "<topic>-<partition>", key and
# value base64-encoded, headers as arrays of byte values.
{
  eventSource: "SelfManagedKafka",
  bootstrapServers: $brokers,
  records: (
    group_by("\(.topic)-\(.partition)")
    | map({
        key: "\(.[0].topic)-\(.[0].partition)",
        value: map({
          topic,
          partition,
          offset,
          timestamp: .ts,
          timestampType: "CREATE_TIME",
          key: (if .key == null then null else (.key | @base64) end),
          value: (if .payload == null then null else (.payload | @base64) end),
          headers: []
        })
      })
    | from_entries
  )
}
