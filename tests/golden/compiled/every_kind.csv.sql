-- policy test.every_kind 1.0, compiled to duckdb SQL
-- the query `leukorules batch` runs on a CSV cohort with an
-- `id` column and one column (key) per input fact; one row out per record
-- records come back in file order, numbered by the engine as they arrive
WITH "lr:source" AS (
  SELECT CAST(NULL AS BIGINT) AS "lr:row",
    f0 AS "lr:id_raw",
    f1 AS c0,
    f2 AS c1,
    f3 AS c2,
    f4 AS c3,
    f5 AS c4,
    f6 AS c5,
    f7 AS c6
  FROM (
    SELECT * FROM read_csv(
      'cohort.csv',
      columns = {'f0': 'VARCHAR',
      'f1': 'VARCHAR',
      'f2': 'VARCHAR',
      'f3': 'VARCHAR',
      'f4': 'VARCHAR',
      'f5': 'VARCHAR',
      'f6': 'VARCHAR',
      'f7': 'VARCHAR'},
      header = true,
      delim = ',',
      quote = '"',
      escape = '"',
      auto_detect = false,
      strict_mode = true,
      null_padding = false,
      compression = 'none'
    )
  )
),
"lr:typed" AS (
  SELECT "lr:row",
    CASE
      WHEN ("lr:id_raw" IS NULL OR ("lr:id_raw" < '!' AND trim("lr:id_raw", ' ' || chr(9)) = ''))
      THEN NULL
      ELSE "lr:id_raw"
    END AS "lr:id",
    CASE
      WHEN ("c0" IS NULL OR ("c0" < '!' AND trim("c0", ' ' || chr(9)) = '')) THEN NULL
      ELSE trim("c0", ' ' || chr(9))
    END AS "diagnosis",
    CASE
      WHEN regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
      THEN TRY_CAST(trim("c1", ' ' || chr(9)) AS BIGINT)
    END AS "age",
    CASE
      WHEN regexp_full_match(
        trim("c2", ' ' || chr(9)),
        '[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?'
      )
        AND isfinite(TRY_CAST(trim("c2", ' ' || chr(9)) AS DOUBLE))
      THEN TRY_CAST(trim("c2", ' ' || chr(9)) AS DOUBLE)
    END AS "weight",
    CASE
      WHEN lower(trim("c3", ' ' || chr(9))) IN ('true', 'yes', '1') THEN TRUE
      WHEN lower(trim("c3", ' ' || chr(9))) IN ('false', 'no', '0') THEN FALSE
    END AS "seizures",
    CASE
      WHEN ("c4" IS NULL OR ("c4" < '!' AND trim("c4", ' ' || chr(9)) = '')) THEN NULL
      WHEN trim("c4", ' ' || chr(9)) = '[]' THEN CAST([] AS VARCHAR[])
      ELSE list_transform(
        string_split(trim("c4", ' ' || chr(9)), ';'),
        lambda x: trim(x, ' ' || chr(9))
      )
    END AS "symptoms",
    CASE
      WHEN ("c5" IS NULL OR ("c5" < '!' AND trim("c5", ' ' || chr(9)) = '')) THEN NULL
      ELSE "c5"
    END AS "label",
    CASE
      WHEN ("c6" IS NULL OR ("c6" < '!' AND trim("c6", ' ' || chr(9)) = '')) THEN NULL
      ELSE CASE
        WHEN (
          regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
          AND substr(trim("c6", ' ' || chr(9)), 1, 4) <> '0000'
        )
        THEN TRY_CAST(trim("c6", ' ' || chr(9)) AS DATE)
      END
    END AS "onset",
    CASE
      WHEN ("lr:id_raw" IS NULL OR ("lr:id_raw" < '!' AND trim("lr:id_raw", ' ' || chr(9)) = ''))
      THEN 'LR507'
    END AS "lr:c0",
    CASE
      WHEN ("lr:id_raw" IS NULL OR ("lr:id_raw" < '!' AND trim("lr:id_raw", ' ' || chr(9)) = ''))
      THEN 'the record has no `id`'
    END AS "lr:m0",
    CASE
      WHEN NOT ("c1" IS NULL OR ("c1" < '!' AND trim("c1", ' ' || chr(9)) = ''))
        AND NOT regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
      THEN 'LR503'
    END AS "lr:c1",
    CASE
      WHEN NOT ("c1" IS NULL OR ("c1" < '!' AND trim("c1", ' ' || chr(9)) = ''))
        AND NOT regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
      THEN '`age` must be a whole number'
    END AS "lr:m1",
    CASE
      WHEN NOT ("c1" IS NULL OR ("c1" < '!' AND trim("c1", ' ' || chr(9)) = ''))
        AND regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
        AND CASE
          WHEN regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
          THEN TRY_CAST(trim("c1", ' ' || chr(9)) AS BIGINT)
        END IS NULL
      THEN 'LR505'
    END AS "lr:c2",
    CASE
      WHEN NOT ("c1" IS NULL OR ("c1" < '!' AND trim("c1", ' ' || chr(9)) = ''))
        AND regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
        AND CASE
          WHEN regexp_full_match(trim("c1", ' ' || chr(9)), '[+-]?[0-9]+')
          THEN TRY_CAST(trim("c1", ' ' || chr(9)) AS BIGINT)
        END IS NULL
      THEN '`age` is outside the 64-bit integer range'
    END AS "lr:m2",
    CASE
      WHEN NOT ("c2" IS NULL OR ("c2" < '!' AND trim("c2", ' ' || chr(9)) = ''))
        AND CASE
          WHEN regexp_full_match(
            trim("c2", ' ' || chr(9)),
            '[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?'
          )
            AND isfinite(TRY_CAST(trim("c2", ' ' || chr(9)) AS DOUBLE))
          THEN TRY_CAST(trim("c2", ' ' || chr(9)) AS DOUBLE)
        END IS NULL
      THEN 'LR503'
    END AS "lr:c3",
    CASE
      WHEN NOT ("c2" IS NULL OR ("c2" < '!' AND trim("c2", ' ' || chr(9)) = ''))
        AND CASE
          WHEN regexp_full_match(
            trim("c2", ' ' || chr(9)),
            '[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?'
          )
            AND isfinite(TRY_CAST(trim("c2", ' ' || chr(9)) AS DOUBLE))
          THEN TRY_CAST(trim("c2", ' ' || chr(9)) AS DOUBLE)
        END IS NULL
      THEN '`weight` must be a finite number'
    END AS "lr:m3",
    CASE
      WHEN NOT ("c3" IS NULL OR ("c3" < '!' AND trim("c3", ' ' || chr(9)) = ''))
        AND CASE
          WHEN lower(trim("c3", ' ' || chr(9))) IN ('true', 'yes', '1') THEN TRUE
          WHEN lower(trim("c3", ' ' || chr(9))) IN ('false', 'no', '0') THEN FALSE
        END IS NULL
      THEN 'LR503'
    END AS "lr:c4",
    CASE
      WHEN NOT ("c3" IS NULL OR ("c3" < '!' AND trim("c3", ' ' || chr(9)) = ''))
        AND CASE
          WHEN lower(trim("c3", ' ' || chr(9))) IN ('true', 'yes', '1') THEN TRUE
          WHEN lower(trim("c3", ' ' || chr(9))) IN ('false', 'no', '0') THEN FALSE
        END IS NULL
      THEN '`seizures` must be true or false (true/false, yes/no, 1/0)'
    END AS "lr:m4",
    CASE
      WHEN NOT ("c6" IS NULL OR ("c6" < '!' AND trim("c6", ' ' || chr(9)) = ''))
        AND NOT regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
      THEN 'LR503'
    END AS "lr:c5",
    CASE
      WHEN NOT ("c6" IS NULL OR ("c6" < '!' AND trim("c6", ' ' || chr(9)) = ''))
        AND NOT regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
      THEN '`onset` must be a date written YYYY-MM-DD'
    END AS "lr:m5",
    CASE
      WHEN NOT ("c6" IS NULL OR ("c6" < '!' AND trim("c6", ' ' || chr(9)) = ''))
        AND regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
        AND CASE
          WHEN (
            regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            AND substr(trim("c6", ' ' || chr(9)), 1, 4) <> '0000'
          )
          THEN TRY_CAST(trim("c6", ' ' || chr(9)) AS DATE)
        END IS NULL
      THEN 'LR503'
    END AS "lr:c6",
    CASE
      WHEN NOT ("c6" IS NULL OR ("c6" < '!' AND trim("c6", ' ' || chr(9)) = ''))
        AND regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
        AND CASE
          WHEN (
            regexp_full_match(trim("c6", ' ' || chr(9)), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            AND substr(trim("c6", ' ' || chr(9)), 1, 4) <> '0000'
          )
          THEN TRY_CAST(trim("c6", ' ' || chr(9)) AS DATE)
        END IS NULL
      THEN '`onset` is not a calendar date'
    END AS "lr:m6"
  FROM "lr:source"
),
"lr:checked" AS (
  SELECT * REPLACE (TRY_CAST("diagnosis" AS ENUM('adem', 'other', 'pml')) AS "diagnosis"),
    CASE
      WHEN "lr:c0" IS NOT NULL
        OR "lr:c1" IS NOT NULL
        OR "lr:c2" IS NOT NULL
        OR "lr:c3" IS NOT NULL
        OR "lr:c4" IS NOT NULL
        OR "lr:c5" IS NOT NULL
        OR "lr:c6" IS NOT NULL
        OR COALESCE(
          (
            "diagnosis" IS NOT NULL
            AND TRY_CAST("diagnosis" AS ENUM('adem', 'other', 'pml')) IS NULL
          ),
          FALSE
        )
        OR COALESCE(("age" < 0 OR "age" > 120), FALSE)
        OR COALESCE(("weight" < 0.0e0 OR "weight" > 400.0e0), FALSE)
        OR COALESCE(
          len(list_filter("symptoms", lambda x: x NOT IN ('headache', 'fever', 'ataxia'))) > 0,
          FALSE
        )
      THEN list_distinct(
        list_filter(
          [
            "lr:c0",
            "lr:c1",
            "lr:c2",
            "lr:c3",
            "lr:c4",
            "lr:c5",
            "lr:c6",
            CASE
              WHEN (
                "diagnosis" IS NOT NULL
                AND TRY_CAST("diagnosis" AS ENUM('adem', 'other', 'pml')) IS NULL
              )
              THEN 'LR504'
            END,
            CASE WHEN ("age" < 0 OR "age" > 120) THEN 'LR505' END,
            CASE WHEN ("weight" < 0.0e0 OR "weight" > 400.0e0) THEN 'LR505' END,
            CASE
              WHEN len(
                list_filter("symptoms", lambda x: x NOT IN ('headache', 'fever', 'ataxia'))
              ) > 0
              THEN 'LR504'
            END
          ],
          lambda x: x IS NOT NULL
        )
      )
      ELSE CAST([] AS VARCHAR[])
    END AS "lr:codes",
    CASE
      WHEN "lr:c0" IS NOT NULL
        OR "lr:c1" IS NOT NULL
        OR "lr:c2" IS NOT NULL
        OR "lr:c3" IS NOT NULL
        OR "lr:c4" IS NOT NULL
        OR "lr:c5" IS NOT NULL
        OR "lr:c6" IS NOT NULL
        OR COALESCE(
          (
            "diagnosis" IS NOT NULL
            AND TRY_CAST("diagnosis" AS ENUM('adem', 'other', 'pml')) IS NULL
          ),
          FALSE
        )
        OR COALESCE(("age" < 0 OR "age" > 120), FALSE)
        OR COALESCE(("weight" < 0.0e0 OR "weight" > 400.0e0), FALSE)
        OR COALESCE(
          len(list_filter("symptoms", lambda x: x NOT IN ('headache', 'fever', 'ataxia'))) > 0,
          FALSE
        )
      THEN NULLIF(
        concat_ws(
          '; ',
          "lr:m0",
          "lr:m1",
          "lr:m2",
          "lr:m3",
          "lr:m4",
          "lr:m5",
          "lr:m6",
          CASE
            WHEN (
              "diagnosis" IS NOT NULL
              AND TRY_CAST("diagnosis" AS ENUM('adem', 'other', 'pml')) IS NULL
            )
            THEN ('`' || "diagnosis" || '` is not an allowed value of `diagnosis`')
          END,
          CASE
            WHEN ("age" < 0 OR "age" > 120)
            THEN ('`age` = ' || CAST("age" AS VARCHAR) || ' is outside its declared range 0..120')
          END,
          CASE
            WHEN ("weight" < 0.0e0 OR "weight" > 400.0e0)
            THEN (
              '`weight` = ' || CAST(
                "weight" AS VARCHAR
              ) || ' [kg] is outside its declared range 0..400'
            )
          END,
          CASE
            WHEN len(
              list_filter("symptoms", lambda x: x NOT IN ('headache', 'fever', 'ataxia'))
            ) > 0
            THEN '`symptoms` holds a value that is not allowed'
          END
        ),
        ''
      )
    END AS "lr:reason"
  FROM "lr:typed"
),
"lr:layer1" AS (
  SELECT "lr:checked".*,
    (("diagnosis" = 'pml') AND ("age" >= 18)) AS "fired:r.adult",
    ((NOT ("seizures")) AND ("age" < 10)) AS "fired:r.mild",
    (("onset" < DATE '2020-01-01') AND ("weight" > 50.5e0)) AS "fired:r.old"
  FROM "lr:checked"
),
"lr:layer2" AS (
  SELECT "lr:layer1".*,
    ((list_contains("symptoms", 'fever')) OR ("seizures")) AS "pre:r.severe",
    (
      ((list_contains("symptoms", 'fever')) OR ("seizures")) AND NOT ("fired:r.mild")
    ) AS "fired:r.severe"
  FROM "lr:layer1"
),
"lr:layer3" AS (
  SELECT "lr:layer2".*,
    CAST(
      CASE
        WHEN COALESCE("fired:r.severe", FALSE) AND COALESCE(NOT ("fired:r.mild"), FALSE)
        THEN 'severe'
        WHEN COALESCE("fired:r.mild", FALSE) AND COALESCE(NOT ("fired:r.severe"), FALSE) THEN 'mild'
      END AS VARCHAR
    ) AS "severity"
  FROM "lr:layer2"
),
"lr:layer4" AS (
  SELECT "lr:layer3".*,
    (
      (("severity" = 'severe') AND ("label" = 'it''s (a "label")
on two lines')) AND "fired:r.adult"
    ) AS "fired:r.note"
  FROM "lr:layer3"
)
SELECT "lr:row" AS "row",
  "lr:id" AS "id",
  "lr:codes" AS "codes",
  "lr:reason" AS "reason",
  "fired:r.adult" AS "r0",
  "fired:r.severe" AS "r1",
  "fired:r.mild" AS "r2",
  "fired:r.note" AS "r3",
  "fired:r.old" AS "r4",
  struct_pack("severity" := "severity") AS "derived",
  "diagnosis" IS NULL AS "t0",
  "age" IS NULL AS "t1",
  "seizures" IS NULL AS "t2",
  "onset" IS NULL AS "t3",
  "weight" IS NULL AS "t4",
  (((list_contains("symptoms", 'fever')) OR ("seizures"))) IS NULL AS "t5",
  "symptoms" IS NULL AS "t6",
  ((("severity" = 'severe') AND ("label" = 'it''s (a "label")
on two lines'))) IS NULL AS "t7",
  "severity" IS NULL AS "t8",
  "label" IS NULL AS "t9"
FROM "lr:layer4";
