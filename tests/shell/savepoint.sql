-- SAVEPOINT, RELEASE and ROLLBACK TO in the shell, and .import joining a
-- transaction a SAVEPOINT began (rdb_get_autocommit is 0 there), so that
-- ROLLBACK TO undoes it; compared with sqlite3.
CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);
SAVEPOINT a;
INSERT INTO t VALUES(1, 'one');
SAVEPOINT b;
.import --csv people.csv people
SELECT count(*) FROM people;
ROLLBACK TO b;
SELECT count(*) FROM t;
RELEASE a;
.import --csv people.csv people
SELECT count(*) > 0 FROM people;
CREATE VIEW tv AS SELECT k, v FROM t;
CREATE TRIGGER tvi INSTEAD OF INSERT ON tv BEGIN INSERT INTO t VALUES(new.k, upper(new.v)); END;
INSERT INTO tv VALUES(2, 'two');
SELECT changes();
SELECT * FROM t;
