-- .import creates the table from the header line, then appends rows;
-- compared with sqlite3.
.import --csv people.csv people
.headers on
.mode box
SELECT * FROM people;
.import --csv --skip 1 people.csv people
SELECT count(*) FROM people;
.mode list
SELECT username FROM people WHERE first_name = 'Natasha';
