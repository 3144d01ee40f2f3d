-- demo.sql -- the demo database `make run` creates (demo.rdb).
CREATE TABLE users(
	id INTEGER PRIMARY KEY,
	username VARCHAR(20),
	first_name VARCHAR(20),
	last_name VARCHAR(20)
);
INSERT INTO users VALUES(1, 'ironman', 'Tony', 'Stark');
INSERT INTO users VALUES(2, 'hulk', 'Bruce', 'Banner');
INSERT INTO users VALUES(3, 'blackwidow', 'Natasha', 'Romanoff');
INSERT INTO users VALUES(4, 'thor', 'Thor', 'Odinson');
INSERT INTO users VALUES(5, 'spiderman', 'Peter', 'Parker');
CREATE INDEX users_last_name ON users(last_name);
