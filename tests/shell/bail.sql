SELECT 1;
SELECT * FROM no_such_table;
SELECT 2;
