.read no_such_file.sql
.open no/such/dir/x.rdb
SELECT 1;
.output no/such/dir/out.txt
SELECT 2;
