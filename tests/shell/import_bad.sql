-- A malformed CSV file is an error naming the line, and imports nothing.
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);
.import --csv bad_quote.csv t
SELECT count(*) FROM t;
.import --csv bad_quote.csv newtable
.tables
.import --csv short.csv short
.tables
.import --csv unterminated.csv u
.import --csv missing.csv t
.import
SELECT count(*) FROM t;
.import --csv --skip 1 people.csv t
.import --csv people.csv people
SELECT count(*) FROM people;
