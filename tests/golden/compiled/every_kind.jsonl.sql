-- policy test.every_kind 1.0, compiled to duckdb SQL
-- the query `leukorules batch` runs on a JSON Lines cohort with an
-- `id` column and one column (key) per input fact; one row out per record
-- records come back in file order, numbered by the engine as they arrive
WITH "lr:source" AS (
  SELECT *,
    CASE
      WHEN (strlen("lr:line") - strlen(replace("lr:line", ':', ''))) = (
        CASE WHEN "lr:obj"."lr:id" IS NULL THEN 0 ELSE 1 END
      ) + (CASE WHEN "lr:obj"."diagnosis" IS NULL THEN 0 ELSE 1 END) + (
        CASE WHEN "lr:obj"."age" IS NULL THEN 0 ELSE 1 END
      ) + (CASE WHEN "lr:obj"."weight" IS NULL THEN 0 ELSE 1 END) + (
        CASE WHEN "lr:obj"."seizures" IS NULL THEN 0 ELSE 1 END
      ) + (CASE WHEN "lr:obj"."symptoms" IS NULL THEN 0 ELSE 1 END) + (
        CASE WHEN "lr:obj"."label" IS NULL THEN 0 ELSE 1 END
      ) + (CASE WHEN "lr:obj"."onset" IS NULL THEN 0 ELSE 1 END)
      THEN CAST([] AS VARCHAR[])
      ELSE json_keys("lr:line")
    END AS "lr:keys",
    (strlen("lr:line") - strlen(replace("lr:line", ':', ''))) = (
      CASE WHEN "lr:obj"."lr:id" IS NULL THEN 0 ELSE 1 END
    ) + (CASE WHEN "lr:obj"."diagnosis" IS NULL THEN 0 ELSE 1 END) + (
      CASE WHEN "lr:obj"."age" IS NULL THEN 0 ELSE 1 END
    ) + (CASE WHEN "lr:obj"."weight" IS NULL THEN 0 ELSE 1 END) + (
      CASE WHEN "lr:obj"."seizures" IS NULL THEN 0 ELSE 1 END
    ) + (CASE WHEN "lr:obj"."symptoms" IS NULL THEN 0 ELSE 1 END) + (
      CASE WHEN "lr:obj"."label" IS NULL THEN 0 ELSE 1 END
    ) + (CASE WHEN "lr:obj"."onset" IS NULL THEN 0 ELSE 1 END) AS "lr:plain"
  FROM (
  SELECT CAST(NULL AS BIGINT) AS "lr:row",
    struct_pack(
      "lr:id" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['id'],
      "diagnosis" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['diagnosis'],
      "age" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['age'],
      "weight" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['weight'],
      "seizures" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['seizures'],
      "symptoms" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['symptoms'],
      "label" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['label'],
      "onset" := json_transform(
        "lr:line",
        '{"id": "JSON", "diagnosis": "JSON", "age": "JSON", "weight": "JSON", "seizures": "JSON", "symptoms": "JSON", "label": "JSON", "onset": "JSON"}'
      )['onset']
    ) AS "lr:obj",
    "lr:line"
  FROM (
    SELECT json AS "lr:line" FROM read_ndjson_objects(
      'cohort.jsonl',
      ignore_errors = true,
      compression = 'none'
    )
  )
  )
),
"lr:typed" AS (
  SELECT "lr:row",
    "lr:keys",
    "lr:plain",
    "lr:line",
    CASE
      WHEN (
        (
          starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"')
          AND NOT contains(CAST("lr:obj"."lr:id" AS VARCHAR), '\')
        )
        AND strlen(CAST("lr:obj"."lr:id" AS VARCHAR)) > 2
        AND NOT (
          starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '" ')
          OR starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"' || chr(9))
        )
      )
      THEN substr(
        CAST("lr:obj"."lr:id" AS VARCHAR),
        2,
        length(CAST("lr:obj"."lr:id" AS VARCHAR)) - 2
      )
      ELSE CASE
        WHEN json_type("lr:obj"."lr:id") = 'VARCHAR'
          AND NOT (
            ("lr:obj"."lr:id" ->> '$') IS NULL
            OR (
              ("lr:obj"."lr:id" ->> '$') < '!'
              AND trim(("lr:obj"."lr:id" ->> '$'), ' ' || chr(9)) = ''
            )
          )
        THEN ("lr:obj"."lr:id" ->> '$')
        WHEN json_type("lr:obj"."lr:id") IN ('BIGINT', 'UBIGINT')
        THEN CAST(TRY_CAST("lr:obj"."lr:id" AS HUGEINT) AS VARCHAR)
        WHEN (
          json_type("lr:obj"."lr:id") IN ('BIGINT', 'UBIGINT')
          OR (
            json_type("lr:obj"."lr:id") = 'DOUBLE'
            AND regexp_full_match(CAST("lr:obj"."lr:id" AS VARCHAR), '-?[0-9]+')
          )
        )
        THEN CAST("lr:obj"."lr:id" AS VARCHAR)
      END
    END AS "lr:id",
    CASE
      WHEN (
        "lr:obj"."diagnosis" IS NULL
        OR CAST("lr:obj"."diagnosis" AS VARCHAR) = 'null'
        OR CAST("lr:obj"."diagnosis" AS VARCHAR) IN ('"pml"', '"adem"', '"other"')
      )
      THEN CASE CAST("lr:obj"."diagnosis" AS VARCHAR)
        WHEN '"pml"' THEN 'pml'
        WHEN '"adem"' THEN 'adem'
        WHEN '"other"' THEN 'other'
      END
      ELSE CASE
        WHEN json_type("lr:obj"."diagnosis") = 'VARCHAR' THEN "lr:obj"."diagnosis" ->> '$'
      END
    END AS "diagnosis",
    CASE
      WHEN (
        "lr:obj"."age" IS NULL
        OR CAST("lr:obj"."age" AS VARCHAR) = 'null'
        OR CAST("lr:obj"."age" AS VARCHAR) = CAST(
          TRY_CAST(CAST("lr:obj"."age" AS VARCHAR) AS BIGINT) AS VARCHAR
        )
      )
      THEN TRY_CAST(CAST("lr:obj"."age" AS VARCHAR) AS BIGINT)
      ELSE CASE
        WHEN json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
        THEN TRY_CAST("lr:obj"."age" AS BIGINT)
      END
    END AS "age",
    CASE
      WHEN (
        "lr:obj"."weight" IS NULL
        OR CAST("lr:obj"."weight" AS VARCHAR) = 'null'
        OR isfinite(TRY_CAST(CAST("lr:obj"."weight" AS VARCHAR) AS DOUBLE))
      )
      THEN TRY_CAST(CAST("lr:obj"."weight" AS VARCHAR) AS DOUBLE)
      ELSE CASE
        WHEN json_type("lr:obj"."weight") IN ('BIGINT', 'UBIGINT', 'DOUBLE')
          AND isfinite(TRY_CAST("lr:obj"."weight" AS DOUBLE))
        THEN TRY_CAST("lr:obj"."weight" AS DOUBLE)
      END
    END AS "weight",
    CASE
      WHEN (
        "lr:obj"."seizures" IS NULL
        OR CAST("lr:obj"."seizures" AS VARCHAR) IN ('true', 'false', 'null')
      )
      THEN CASE CAST("lr:obj"."seizures" AS VARCHAR)
        WHEN 'true' THEN TRUE
        WHEN 'false' THEN FALSE
      END
      ELSE CASE
        WHEN json_type("lr:obj"."seizures") = 'BOOLEAN'
        THEN TRY_CAST("lr:obj"."seizures" AS BOOLEAN)
      END
    END AS "seizures",
    CASE
      WHEN json_type("lr:obj"."symptoms") = 'ARRAY'
      THEN list_transform(
        list_filter(TRY_CAST("lr:obj"."symptoms" AS JSON[]), lambda e: json_type(e) = 'VARCHAR'),
        lambda e: e ->> '$'
      )
    END AS "symptoms",
    CASE
      WHEN (
        "lr:obj"."label" IS NULL
        OR CAST("lr:obj"."label" AS VARCHAR) = 'null'
        OR (
          starts_with(CAST("lr:obj"."label" AS VARCHAR), '"')
          AND NOT contains(CAST("lr:obj"."label" AS VARCHAR), '\')
        )
      )
      THEN CASE
        WHEN (
          starts_with(CAST("lr:obj"."label" AS VARCHAR), '"')
          AND NOT contains(CAST("lr:obj"."label" AS VARCHAR), '\')
        )
        THEN substr(
          CAST("lr:obj"."label" AS VARCHAR),
          2,
          length(CAST("lr:obj"."label" AS VARCHAR)) - 2
        )
      END
      ELSE CASE WHEN json_type("lr:obj"."label") = 'VARCHAR' THEN "lr:obj"."label" ->> '$' END
    END AS "label",
    CASE
      WHEN (
        regexp_full_match(
          CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}'
        )
        AND substr(
          CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
          1,
          4
        ) <> '0000'
      )
      THEN TRY_CAST(
        CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END AS DATE
      )
    END AS "onset",
    CASE
      WHEN CASE
        WHEN (
          (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"')
            AND NOT contains(CAST("lr:obj"."lr:id" AS VARCHAR), '\')
          )
          AND strlen(CAST("lr:obj"."lr:id" AS VARCHAR)) > 2
          AND NOT (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '" ')
            OR starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"' || chr(9))
          )
        )
        THEN FALSE
        ELSE (
          "lr:obj"."lr:id" IS NULL
          OR json_type("lr:obj"."lr:id") = 'NULL'
          OR (
            json_type("lr:obj"."lr:id") = 'VARCHAR'
            AND (
              ("lr:obj"."lr:id" ->> '$') IS NULL
              OR (
                ("lr:obj"."lr:id" ->> '$') < '!'
                AND trim(("lr:obj"."lr:id" ->> '$'), ' ' || chr(9)) = ''
              )
            )
          )
        )
      END
      THEN 'LR507'
    END AS "lr:c0",
    CASE
      WHEN CASE
        WHEN (
          (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"')
            AND NOT contains(CAST("lr:obj"."lr:id" AS VARCHAR), '\')
          )
          AND strlen(CAST("lr:obj"."lr:id" AS VARCHAR)) > 2
          AND NOT (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '" ')
            OR starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"' || chr(9))
          )
        )
        THEN FALSE
        ELSE (
          "lr:obj"."lr:id" IS NULL
          OR json_type("lr:obj"."lr:id") = 'NULL'
          OR (
            json_type("lr:obj"."lr:id") = 'VARCHAR'
            AND (
              ("lr:obj"."lr:id" ->> '$') IS NULL
              OR (
                ("lr:obj"."lr:id" ->> '$') < '!'
                AND trim(("lr:obj"."lr:id" ->> '$'), ' ' || chr(9)) = ''
              )
            )
          )
        )
      END
      THEN 'the record has no `id`'
    END AS "lr:m0",
    CASE
      WHEN CASE
        WHEN (
          (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"')
            AND NOT contains(CAST("lr:obj"."lr:id" AS VARCHAR), '\')
          )
          AND strlen(CAST("lr:obj"."lr:id" AS VARCHAR)) > 2
          AND NOT (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '" ')
            OR starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"' || chr(9))
          )
        )
        THEN FALSE
        ELSE NOT (
          "lr:obj"."lr:id" IS NULL
          OR json_type("lr:obj"."lr:id") = 'NULL'
          OR (
            json_type("lr:obj"."lr:id") = 'VARCHAR'
            AND (
              ("lr:obj"."lr:id" ->> '$') IS NULL
              OR (
                ("lr:obj"."lr:id" ->> '$') < '!'
                AND trim(("lr:obj"."lr:id" ->> '$'), ' ' || chr(9)) = ''
              )
            )
          )
        )
          AND NOT (
            json_type("lr:obj"."lr:id") = 'VARCHAR'
            OR (
              json_type("lr:obj"."lr:id") IN ('BIGINT', 'UBIGINT')
              OR (
                json_type("lr:obj"."lr:id") = 'DOUBLE'
                AND regexp_full_match(CAST("lr:obj"."lr:id" AS VARCHAR), '-?[0-9]+')
              )
            )
          )
      END
      THEN 'LR507'
    END AS "lr:c1",
    CASE
      WHEN CASE
        WHEN (
          (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"')
            AND NOT contains(CAST("lr:obj"."lr:id" AS VARCHAR), '\')
          )
          AND strlen(CAST("lr:obj"."lr:id" AS VARCHAR)) > 2
          AND NOT (
            starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '" ')
            OR starts_with(CAST("lr:obj"."lr:id" AS VARCHAR), '"' || chr(9))
          )
        )
        THEN FALSE
        ELSE NOT (
          "lr:obj"."lr:id" IS NULL
          OR json_type("lr:obj"."lr:id") = 'NULL'
          OR (
            json_type("lr:obj"."lr:id") = 'VARCHAR'
            AND (
              ("lr:obj"."lr:id" ->> '$') IS NULL
              OR (
                ("lr:obj"."lr:id" ->> '$') < '!'
                AND trim(("lr:obj"."lr:id" ->> '$'), ' ' || chr(9)) = ''
              )
            )
          )
        )
          AND NOT (
            json_type("lr:obj"."lr:id") = 'VARCHAR'
            OR (
              json_type("lr:obj"."lr:id") IN ('BIGINT', 'UBIGINT')
              OR (
                json_type("lr:obj"."lr:id") = 'DOUBLE'
                AND regexp_full_match(CAST("lr:obj"."lr:id" AS VARCHAR), '-?[0-9]+')
              )
            )
          )
      END
      THEN '`id` must be text or a whole number'
    END AS "lr:m1",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."diagnosis" IS NULL
          OR CAST("lr:obj"."diagnosis" AS VARCHAR) = 'null'
          OR CAST("lr:obj"."diagnosis" AS VARCHAR) IN ('"pml"', '"adem"', '"other"')
        )
        THEN FALSE
        ELSE ("lr:obj"."diagnosis" IS NOT NULL AND json_type("lr:obj"."diagnosis") <> 'NULL')
          AND NOT (json_type("lr:obj"."diagnosis") = 'VARCHAR')
      END
      THEN 'LR503'
    END AS "lr:c2",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."diagnosis" IS NULL
          OR CAST("lr:obj"."diagnosis" AS VARCHAR) = 'null'
          OR CAST("lr:obj"."diagnosis" AS VARCHAR) IN ('"pml"', '"adem"', '"other"')
        )
        THEN FALSE
        ELSE ("lr:obj"."diagnosis" IS NOT NULL AND json_type("lr:obj"."diagnosis") <> 'NULL')
          AND NOT (json_type("lr:obj"."diagnosis") = 'VARCHAR')
      END
      THEN (
        '`diagnosis` must be one of: pml, adem, other; it is ' || CASE json_type("lr:obj"."diagnosis")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m2",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."age" IS NULL
          OR CAST("lr:obj"."age" AS VARCHAR) = 'null'
          OR CAST("lr:obj"."age" AS VARCHAR) = CAST(
            TRY_CAST(CAST("lr:obj"."age" AS VARCHAR) AS BIGINT) AS VARCHAR
          )
        )
        THEN FALSE
        ELSE ("lr:obj"."age" IS NOT NULL AND json_type("lr:obj"."age") <> 'NULL')
          AND NOT (
            json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
            OR (
              (
                json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
                AND CASE
                  WHEN json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
                  THEN TRY_CAST("lr:obj"."age" AS BIGINT)
                END IS NULL
              )
              OR (
                json_type("lr:obj"."age") = 'DOUBLE'
                AND regexp_full_match(CAST("lr:obj"."age" AS VARCHAR), '-?[0-9]+')
              )
            )
          )
      END
      THEN 'LR503'
    END AS "lr:c3",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."age" IS NULL
          OR CAST("lr:obj"."age" AS VARCHAR) = 'null'
          OR CAST("lr:obj"."age" AS VARCHAR) = CAST(
            TRY_CAST(CAST("lr:obj"."age" AS VARCHAR) AS BIGINT) AS VARCHAR
          )
        )
        THEN FALSE
        ELSE ("lr:obj"."age" IS NOT NULL AND json_type("lr:obj"."age") <> 'NULL')
          AND NOT (
            json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
            OR (
              (
                json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
                AND CASE
                  WHEN json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
                  THEN TRY_CAST("lr:obj"."age" AS BIGINT)
                END IS NULL
              )
              OR (
                json_type("lr:obj"."age") = 'DOUBLE'
                AND regexp_full_match(CAST("lr:obj"."age" AS VARCHAR), '-?[0-9]+')
              )
            )
          )
      END
      THEN (
        '`age` must be a whole number; it is ' || CASE json_type("lr:obj"."age")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m3",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."age" IS NULL
          OR CAST("lr:obj"."age" AS VARCHAR) = 'null'
          OR CAST("lr:obj"."age" AS VARCHAR) = CAST(
            TRY_CAST(CAST("lr:obj"."age" AS VARCHAR) AS BIGINT) AS VARCHAR
          )
        )
        THEN FALSE
        ELSE ("lr:obj"."age" IS NOT NULL AND json_type("lr:obj"."age") <> 'NULL')
          AND (
            (
              json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
              AND CASE
                WHEN json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
                THEN TRY_CAST("lr:obj"."age" AS BIGINT)
              END IS NULL
            )
            OR (
              json_type("lr:obj"."age") = 'DOUBLE'
              AND regexp_full_match(CAST("lr:obj"."age" AS VARCHAR), '-?[0-9]+')
            )
          )
      END
      THEN 'LR505'
    END AS "lr:c4",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."age" IS NULL
          OR CAST("lr:obj"."age" AS VARCHAR) = 'null'
          OR CAST("lr:obj"."age" AS VARCHAR) = CAST(
            TRY_CAST(CAST("lr:obj"."age" AS VARCHAR) AS BIGINT) AS VARCHAR
          )
        )
        THEN FALSE
        ELSE ("lr:obj"."age" IS NOT NULL AND json_type("lr:obj"."age") <> 'NULL')
          AND (
            (
              json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
              AND CASE
                WHEN json_type("lr:obj"."age") IN ('BIGINT', 'UBIGINT')
                THEN TRY_CAST("lr:obj"."age" AS BIGINT)
              END IS NULL
            )
            OR (
              json_type("lr:obj"."age") = 'DOUBLE'
              AND regexp_full_match(CAST("lr:obj"."age" AS VARCHAR), '-?[0-9]+')
            )
          )
      END
      THEN '`age` is outside the 64-bit integer range'
    END AS "lr:m4",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."weight" IS NULL
          OR CAST("lr:obj"."weight" AS VARCHAR) = 'null'
          OR isfinite(TRY_CAST(CAST("lr:obj"."weight" AS VARCHAR) AS DOUBLE))
        )
        THEN FALSE
        ELSE ("lr:obj"."weight" IS NOT NULL AND json_type("lr:obj"."weight") <> 'NULL')
          AND NOT (json_type("lr:obj"."weight") IN ('BIGINT', 'UBIGINT', 'DOUBLE'))
      END
      THEN 'LR503'
    END AS "lr:c5",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."weight" IS NULL
          OR CAST("lr:obj"."weight" AS VARCHAR) = 'null'
          OR isfinite(TRY_CAST(CAST("lr:obj"."weight" AS VARCHAR) AS DOUBLE))
        )
        THEN FALSE
        ELSE ("lr:obj"."weight" IS NOT NULL AND json_type("lr:obj"."weight") <> 'NULL')
          AND NOT (json_type("lr:obj"."weight") IN ('BIGINT', 'UBIGINT', 'DOUBLE'))
      END
      THEN (
        '`weight` must be a finite number; it is ' || CASE json_type("lr:obj"."weight")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m5",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."weight" IS NULL
          OR CAST("lr:obj"."weight" AS VARCHAR) = 'null'
          OR isfinite(TRY_CAST(CAST("lr:obj"."weight" AS VARCHAR) AS DOUBLE))
        )
        THEN FALSE
        ELSE ("lr:obj"."weight" IS NOT NULL AND json_type("lr:obj"."weight") <> 'NULL')
          AND json_type("lr:obj"."weight") IN ('BIGINT', 'UBIGINT', 'DOUBLE')
          AND NOT isfinite(TRY_CAST("lr:obj"."weight" AS DOUBLE))
      END
      THEN 'LR503'
    END AS "lr:c6",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."weight" IS NULL
          OR CAST("lr:obj"."weight" AS VARCHAR) = 'null'
          OR isfinite(TRY_CAST(CAST("lr:obj"."weight" AS VARCHAR) AS DOUBLE))
        )
        THEN FALSE
        ELSE ("lr:obj"."weight" IS NOT NULL AND json_type("lr:obj"."weight") <> 'NULL')
          AND json_type("lr:obj"."weight") IN ('BIGINT', 'UBIGINT', 'DOUBLE')
          AND NOT isfinite(TRY_CAST("lr:obj"."weight" AS DOUBLE))
      END
      THEN '`weight` must be a finite number'
    END AS "lr:m6",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."seizures" IS NULL
          OR CAST("lr:obj"."seizures" AS VARCHAR) IN ('true', 'false', 'null')
        )
        THEN FALSE
        ELSE ("lr:obj"."seizures" IS NOT NULL AND json_type("lr:obj"."seizures") <> 'NULL')
          AND NOT (json_type("lr:obj"."seizures") = 'BOOLEAN')
      END
      THEN 'LR503'
    END AS "lr:c7",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."seizures" IS NULL
          OR CAST("lr:obj"."seizures" AS VARCHAR) IN ('true', 'false', 'null')
        )
        THEN FALSE
        ELSE ("lr:obj"."seizures" IS NOT NULL AND json_type("lr:obj"."seizures") <> 'NULL')
          AND NOT (json_type("lr:obj"."seizures") = 'BOOLEAN')
      END
      THEN (
        '`seizures` must be true or false; it is ' || CASE json_type("lr:obj"."seizures")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m7",
    CASE
      WHEN ("lr:obj"."symptoms" IS NOT NULL AND json_type("lr:obj"."symptoms") <> 'NULL')
        AND NOT (json_type("lr:obj"."symptoms") = 'ARRAY')
      THEN 'LR503'
    END AS "lr:c8",
    CASE
      WHEN ("lr:obj"."symptoms" IS NOT NULL AND json_type("lr:obj"."symptoms") <> 'NULL')
        AND NOT (json_type("lr:obj"."symptoms") = 'ARRAY')
      THEN (
        '`symptoms` must be a list of values from: headache, fever, ataxia; it is ' || CASE json_type("lr:obj"."symptoms")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m8",
    CASE
      WHEN ("lr:obj"."symptoms" IS NOT NULL AND json_type("lr:obj"."symptoms") <> 'NULL')
        AND json_type("lr:obj"."symptoms") = 'ARRAY'
        AND len(
          list_filter(TRY_CAST("lr:obj"."symptoms" AS JSON[]), lambda e: json_type(e) = 'VARCHAR')
        ) < len(TRY_CAST("lr:obj"."symptoms" AS JSON[]))
      THEN 'LR503'
    END AS "lr:c9",
    CASE
      WHEN ("lr:obj"."symptoms" IS NOT NULL AND json_type("lr:obj"."symptoms") <> 'NULL')
        AND json_type("lr:obj"."symptoms") = 'ARRAY'
        AND len(
          list_filter(TRY_CAST("lr:obj"."symptoms" AS JSON[]), lambda e: json_type(e) = 'VARCHAR')
        ) < len(TRY_CAST("lr:obj"."symptoms" AS JSON[]))
      THEN 'an item of `symptoms` is not one of: headache, fever, ataxia'
    END AS "lr:m9",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."label" IS NULL
          OR CAST("lr:obj"."label" AS VARCHAR) = 'null'
          OR (
            starts_with(CAST("lr:obj"."label" AS VARCHAR), '"')
            AND NOT contains(CAST("lr:obj"."label" AS VARCHAR), '\')
          )
        )
        THEN FALSE
        ELSE ("lr:obj"."label" IS NOT NULL AND json_type("lr:obj"."label") <> 'NULL')
          AND NOT (json_type("lr:obj"."label") = 'VARCHAR')
      END
      THEN 'LR503'
    END AS "lr:c10",
    CASE
      WHEN CASE
        WHEN (
          "lr:obj"."label" IS NULL
          OR CAST("lr:obj"."label" AS VARCHAR) = 'null'
          OR (
            starts_with(CAST("lr:obj"."label" AS VARCHAR), '"')
            AND NOT contains(CAST("lr:obj"."label" AS VARCHAR), '\')
          )
        )
        THEN FALSE
        ELSE ("lr:obj"."label" IS NOT NULL AND json_type("lr:obj"."label") <> 'NULL')
          AND NOT (json_type("lr:obj"."label") = 'VARCHAR')
      END
      THEN (
        '`label` must be text; it is ' || CASE json_type("lr:obj"."label")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m10",
    CASE
      WHEN ("lr:obj"."onset" IS NOT NULL AND json_type("lr:obj"."onset") <> 'NULL')
        AND json_type("lr:obj"."onset") = 'VARCHAR'
        AND NOT regexp_full_match(
          CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}'
        )
      THEN 'LR503'
    END AS "lr:c11",
    CASE
      WHEN ("lr:obj"."onset" IS NOT NULL AND json_type("lr:obj"."onset") <> 'NULL')
        AND json_type("lr:obj"."onset") = 'VARCHAR'
        AND NOT regexp_full_match(
          CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}'
        )
      THEN '`onset` must be a date written YYYY-MM-DD'
    END AS "lr:m11",
    CASE
      WHEN ("lr:obj"."onset" IS NOT NULL AND json_type("lr:obj"."onset") <> 'NULL')
        AND json_type("lr:obj"."onset") = 'VARCHAR'
        AND regexp_full_match(
          CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}'
        )
        AND CASE
          WHEN (
            regexp_full_match(
              CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
              '[0-9]{4}-[0-9]{2}-[0-9]{2}'
            )
            AND substr(
              CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
              1,
              4
            ) <> '0000'
          )
          THEN TRY_CAST(
            CASE
              WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$'
            END AS DATE
          )
        END IS NULL
      THEN 'LR503'
    END AS "lr:c12",
    CASE
      WHEN ("lr:obj"."onset" IS NOT NULL AND json_type("lr:obj"."onset") <> 'NULL')
        AND json_type("lr:obj"."onset") = 'VARCHAR'
        AND regexp_full_match(
          CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
          '[0-9]{4}-[0-9]{2}-[0-9]{2}'
        )
        AND CASE
          WHEN (
            regexp_full_match(
              CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
              '[0-9]{4}-[0-9]{2}-[0-9]{2}'
            )
            AND substr(
              CASE WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$' END,
              1,
              4
            ) <> '0000'
          )
          THEN TRY_CAST(
            CASE
              WHEN json_type("lr:obj"."onset") = 'VARCHAR' THEN "lr:obj"."onset" ->> '$'
            END AS DATE
          )
        END IS NULL
      THEN '`onset` is not a calendar date'
    END AS "lr:m12",
    CASE
      WHEN ("lr:obj"."onset" IS NOT NULL AND json_type("lr:obj"."onset") <> 'NULL')
        AND NOT (json_type("lr:obj"."onset") = 'VARCHAR')
      THEN 'LR503'
    END AS "lr:c13",
    CASE
      WHEN ("lr:obj"."onset" IS NOT NULL AND json_type("lr:obj"."onset") <> 'NULL')
        AND NOT (json_type("lr:obj"."onset") = 'VARCHAR')
      THEN (
        '`onset` must be a date written YYYY-MM-DD; it is ' || CASE json_type("lr:obj"."onset")
          WHEN 'VARCHAR' THEN 'text'
          WHEN 'BOOLEAN' THEN 'true/false'
          WHEN 'ARRAY' THEN 'a list'
          WHEN 'OBJECT' THEN 'a mapping'
          ELSE 'a number'
        END
      )
    END AS "lr:m13",
    CASE
      WHEN CASE
        WHEN "lr:plain" THEN FALSE
        ELSE len(list_filter("lr:keys", lambda k: k IN ('severity'))) > 0
      END
      THEN 'LR506'
    END AS "lr:c14",
    CASE
      WHEN CASE
        WHEN "lr:plain" THEN FALSE
        ELSE len(list_filter("lr:keys", lambda k: k IN ('severity'))) > 0
      END
      THEN array_to_string(
        list_transform(
          list_filter("lr:keys", lambda k: k IN ('severity')),
          lambda k: (
            '`' || k || '` is a derived fact; the policy''s rules derive it from other facts'
          )
        ),
        '; '
      )
    END AS "lr:m14",
    CASE
      WHEN CASE
        WHEN "lr:plain" THEN FALSE
        ELSE len(
          list_filter(
            "lr:keys",
            lambda k: k NOT IN (
              'id',
              'diagnosis',
              'age',
              'weight',
              'seizures',
              'symptoms',
              'label',
              'onset'
            )
            AND NOT (k IN ('severity'))
          )
        ) > 0
      END
      THEN 'LR502'
    END AS "lr:c15",
    CASE
      WHEN CASE
        WHEN "lr:plain" THEN FALSE
        ELSE len(
          list_filter(
            "lr:keys",
            lambda k: k NOT IN (
              'id',
              'diagnosis',
              'age',
              'weight',
              'seizures',
              'symptoms',
              'label',
              'onset'
            )
            AND NOT (k IN ('severity'))
          )
        ) > 0
      END
      THEN array_to_string(
        list_transform(
          list_filter(
            "lr:keys",
            lambda k: k NOT IN (
              'id',
              'diagnosis',
              'age',
              'weight',
              'seizures',
              'symptoms',
              'label',
              'onset'
            )
            AND NOT (k IN ('severity'))
          ),
          lambda k: ('`' || k || '` is not a fact of this policy')
        ),
        '; '
      )
    END AS "lr:m15"
  FROM "lr:source"
),
"lr:checked" AS (
  SELECT * REPLACE (TRY_CAST("diagnosis" AS ENUM('adem', 'other', 'pml')) AS "diagnosis"),
    CASE
      WHEN CASE WHEN "lr:plain" THEN FALSE ELSE len("lr:keys") <> len(list_distinct("lr:keys")) END
      THEN ['LR507']
      ELSE CASE
        WHEN "lr:c0" IS NOT NULL
          OR "lr:c1" IS NOT NULL
          OR "lr:c2" IS NOT NULL
          OR "lr:c3" IS NOT NULL
          OR "lr:c4" IS NOT NULL
          OR "lr:c5" IS NOT NULL
          OR "lr:c6" IS NOT NULL
          OR "lr:c7" IS NOT NULL
          OR "lr:c8" IS NOT NULL
          OR "lr:c9" IS NOT NULL
          OR "lr:c10" IS NOT NULL
          OR "lr:c11" IS NOT NULL
          OR "lr:c12" IS NOT NULL
          OR "lr:c13" IS NOT NULL
          OR "lr:c14" IS NOT NULL
          OR "lr:c15" IS NOT NULL
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
              "lr:c7",
              "lr:c8",
              "lr:c9",
              "lr:c10",
              "lr:c11",
              "lr:c12",
              "lr:c13",
              "lr:c14",
              "lr:c15",
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
      END
    END AS "lr:codes",
    CASE
      WHEN CASE WHEN "lr:plain" THEN FALSE ELSE len("lr:keys") <> len(list_distinct("lr:keys")) END
      THEN 'a key is given twice'
      ELSE CASE
        WHEN "lr:c0" IS NOT NULL
          OR "lr:c1" IS NOT NULL
          OR "lr:c2" IS NOT NULL
          OR "lr:c3" IS NOT NULL
          OR "lr:c4" IS NOT NULL
          OR "lr:c5" IS NOT NULL
          OR "lr:c6" IS NOT NULL
          OR "lr:c7" IS NOT NULL
          OR "lr:c8" IS NOT NULL
          OR "lr:c9" IS NOT NULL
          OR "lr:c10" IS NOT NULL
          OR "lr:c11" IS NOT NULL
          OR "lr:c12" IS NOT NULL
          OR "lr:c13" IS NOT NULL
          OR "lr:c14" IS NOT NULL
          OR "lr:c15" IS NOT NULL
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
            "lr:m7",
            "lr:m8",
            "lr:m9",
            "lr:m10",
            "lr:m11",
            "lr:m12",
            "lr:m13",
            "lr:m14",
            "lr:m15",
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
      END
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
  CASE
    WHEN CASE WHEN "lr:plain" THEN FALSE ELSE len("lr:keys") <> len(list_distinct("lr:keys")) END
    THEN NULL
    ELSE "lr:id"
  END AS "id",
  "lr:codes" AS "codes",
  "lr:reason" AS "reason",
  "fired:r.adult" AS "r0",
  "fired:r.severe" AS "r1",
  "fired:r.mild" AS "r2",
  "fired:r.note" AS "r3",
  "fired:r.old" AS "r4",
  struct_pack("severity" := "severity") AS "derived",
  CASE
    WHEN "lr:line" IS NOT NULL
    THEN (
      NOT starts_with("lr:line", '{')
      OR regexp_matches("lr:line", ',\s*}$')
      OR CASE
        WHEN (
          len("lr:codes") > 0
          OR COALESCE(CHAR_LENGTH("lr:id") > 600, FALSE)
          OR "symptoms" IS NOT NULL
        )
        THEN regexp_matches("lr:line", '(?i)[:,\[]\s*[-+]?(nan|inf)|,\s*[\]}]|[0-9]{600}')
        OR (
          strlen("lr:line") >= 200
          AND strlen("lr:line") - strlen(replace(replace("lr:line", '[', ''), '{', '')) >= 100
        )
        ELSE FALSE
      END
    )
  END AS "check",
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
