-- Errors go to stderr with the line the statement began on; the batch
-- goes on, and the exit status is 1.
SELECT 1;
SELECT * FROM no_such_table;
SELECT 2;
.no_such_command
SELECT
  3
  ;
SELECT * FROM
  also_missing;
SELECT 4;
