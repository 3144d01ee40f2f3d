-- Every output mode on one table, compared with sqlite3.
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);
INSERT INTO t VALUES(1, 'Tony', 1.5, X'00ff');
INSERT INTO t VALUES(2, 'O''Brien, "Bo"', 0.1, NULL);
INSERT INTO t VALUES(3, 'multi
line', 1e20, X'41');
INSERT INTO t VALUES(4, 'héllo wörld', -2.0, NULL);
INSERT INTO t VALUES(5, NULL, NULL, X'');
INSERT INTO t VALUES(6, '<b>&amp;</b>	tab', 123456789.125, X'6869');
SELECT * FROM t ORDER BY id;
.headers on
SELECT * FROM t ORDER BY id;
.mode csv
SELECT * FROM t ORDER BY id;
.mode tabs
SELECT * FROM t ORDER BY id;
.mode line
SELECT * FROM t ORDER BY id;
.mode json
SELECT * FROM t ORDER BY id;
.mode quote
SELECT * FROM t ORDER BY id;
.mode box
SELECT * FROM t ORDER BY id;
.mode table
SELECT * FROM t ORDER BY id;
.mode markdown
SELECT * FROM t ORDER BY id;
.mode column
SELECT * FROM t ORDER BY id;
.mode html
SELECT * FROM t ORDER BY id;
.mode insert copy
SELECT * FROM t ORDER BY id;
.headers off
.mode list
.separator ;
.nullvalue (null)
SELECT * FROM t ORDER BY id;
.separator | \n
.nullvalue ''
.mode column
SELECT id, name FROM t ORDER BY id;
.headers on
.width 3 -12
SELECT id, name FROM t ORDER BY id;
.mode box --wrap 6 --wordwrap on
SELECT id, name FROM t ORDER BY id;
.mode table --quote
SELECT * FROM t ORDER BY id;
.width
.mode list
SELECT name FROM t WHERE id > 100;
SELECT id, score * 2 AS doubled, name || '!' AS shout FROM t WHERE id < 3 ORDER BY id DESC;
