SELECT 1 AS a, 'x,y' AS b, NULL AS c, 2.5 AS d;
