INSERT INTO users (name, age) VALUES ('ann', 30), ('bob', 25), ('cy', 41);
UPDATE users SET email = CONCAT(name, '@example.com') WHERE age > 26;
DELETE FROM users WHERE name = 'bob';
