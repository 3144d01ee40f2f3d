-- .dump round trip: dump, load into a new file, dump again (printed
-- here; identical to the first dump, which went to dump1.sql), .check.
CREATE TABLE users(id INTEGER PRIMARY KEY, username VARCHAR(20), first_name VARCHAR(20), last_name VARCHAR(20));
CREATE INDEX users_last ON users(last_name);
INSERT INTO users VALUES(1, 'ironman', 'Tony', 'Stark');
INSERT INTO users VALUES(2, 'hulk', 'Bruce', 'Banner');
CREATE TABLE vals(k TEXT PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB);
INSERT INTO vals VALUES('a', 9223372036854775807, 0.1, 'it''s', X'00ff');
INSERT INTO vals VALUES('b', -9223372036854775807, 1e300, 'multi
line', X'');
INSERT INTO vals VALUES('c', NULL, 3.141592653589793, NULL, NULL);
INSERT INTO vals VALUES('d', 0, -0.5, '', X'41');
INSERT INTO vals VALUES('e', 42, 0.30000000000000004, 'ünïcödé', NULL);
CREATE TABLE "odd name"("select" INTEGER PRIMARY KEY, "a b" TEXT);
INSERT INTO "odd name" VALUES(1, 'x');
.output dump1.sql
.dump
.output
.open --new copy.rdb
.read dump1.sql
.dump
.check
.dump users
