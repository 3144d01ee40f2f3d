-- The key-value blob store from the shell.
.kv put user:1 Tony
.kv put user:2 Bruce
.kv put config {"theme":"dark"}
.kv get user:1
.kv get config
.kv list
.kv list user:
.kv put user:1 "Tony Stark"
.kv get user:1
.kv del user:2
.kv list
.kv put blob @kv_value.bin
.kv get blob
.kv compact
.kv list
.kv get user:2
.kv del nosuch
.kv frobnicate
