ALTER TABLE users ADD COLUMN nickname VARCHAR(32) NULL;
UPDATE users SET nickname = UPPER(name);
INSERT INTO users (name, age, nickname) VALUES ('di', 19, 'DEE');
