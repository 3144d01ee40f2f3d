-- Dot-commands not covered elsewhere: .print .echo .changes .once .read
-- .show .indexes .help .mode (errors) .headers .separator .width .exit
.print hello "big world" 'a\tb' c\td
.echo on
SELECT 1;
.echo off
.changes on
CREATE TABLE t(a INTEGER, b TEXT);
INSERT INTO t VALUES(1, 'x'), (2, 'y'), (3, 'z');
UPDATE t SET b = 'w' WHERE a > 1;
.changes off
.once once.sql
SELECT 'SELECT 40 + 2;';
SELECT 'back on stdout';
.read once.sql
.output out.sql
SELECT 'SELECT 7 * 6;';
.print 'SELECT 6 * 7;'
.output
.read out.sql
CREATE INDEX t_a ON t(a);
CREATE UNIQUE INDEX t_b ON t(b, a);
.indexes
.indexes nosuch
.tables t%
.help tab
.help nosuch
.mode
.mode bogus
.headers maybe
.separator
.width 5 -5
.mode column
SELECT * FROM t;
.nullvalue NIL
.mode list
.separator ", " " ;\n"
SELECT a, NULL FROM t;
.show
.exit 3
SELECT 'not reached';
