DELETE FROM users WHERE name IN ('ann', 'bob', 'cy');
