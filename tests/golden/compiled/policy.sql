-- policy leukoencephalopathy 1.0.0, compiled to duckdb SQL
-- the query `leukorules batch` runs on a Parquet cohort with an
-- `id` column and one column (key) per input fact; one row out per record
WITH "lr:source" AS (
  SELECT *, file_row_number + 1 AS "lr:row" FROM read_parquet(
    'cohort.parquet',
    file_row_number = true
  )
),
"lr:typed" AS (
  SELECT "lr:row",
    CASE
      WHEN (
        CAST("id" AS VARCHAR) IS NULL
        OR (CAST("id" AS VARCHAR) < '!' AND trim(CAST("id" AS VARCHAR), ' ' || chr(9)) = '')
      )
      THEN NULL
      ELSE CAST("id" AS VARCHAR)
    END AS "lr:id",
    CAST("leukoencephalopathy_type" AS VARCHAR) AS "leukoencephalopathy_type",
    CAST("hiv_positive" AS BOOLEAN) AS "hiv_positive",
    CAST("immune_restoration_possible" AS BOOLEAN) AS "immune_restoration_possible",
    CAST("pml_medication_induced" AS BOOLEAN) AS "pml_medication_induced",
    CAST("checkpoint_inhibitor_candidate" AS BOOLEAN) AS "checkpoint_inhibitor_candidate",
    CAST("causative_drug" AS VARCHAR) AS "causative_drug",
    CAST("pml_signs" AS BOOLEAN) AS "pml_signs",
    CAST("immune_mediated" AS BOOLEAN) AS "immune_mediated",
    CAST("pres" AS BOOLEAN) AS "pres",
    CAST("corticosteroid_response" AS VARCHAR) AS "corticosteroid_response",
    CAST("plasma_exchange_response" AS VARCHAR) AS "plasma_exchange_response",
    CAST("toxic_exposure_ongoing" AS BOOLEAN) AS "toxic_exposure_ongoing",
    CAST("on_treatment" AS BOOLEAN) AS "on_treatment",
    CAST("clinical_decline" AS BOOLEAN) AS "clinical_decline",
    CAST("electrolyte_imbalance" AS BOOLEAN) AS "electrolyte_imbalance",
    CAST("agitation" AS BOOLEAN) AS "agitation",
    CAST("seizures" AS BOOLEAN) AS "seizures",
    CAST("neuropathic_pain" AS BOOLEAN) AS "neuropathic_pain",
    CAST("raised_intracranial_pressure" AS BOOLEAN) AS "raised_intracranial_pressure",
    CAST("motor_deficits" AS BOOLEAN) AS "motor_deficits",
    CAST("dysarthria_or_dysphasia" AS BOOLEAN) AS "dysarthria_or_dysphasia",
    CAST("neurological_symptoms" AS BOOLEAN) AS "neurological_symptoms",
    CAST("symptom_course" AS VARCHAR) AS "symptom_course",
    CAST("csf_findings" AS VARCHAR) AS "csf_findings",
    CAST("mri_findings" AS VARCHAR) AS "mri_findings",
    CASE
      WHEN (
        CAST("id" AS VARCHAR) IS NULL
        OR (CAST("id" AS VARCHAR) < '!' AND trim(CAST("id" AS VARCHAR), ' ' || chr(9)) = '')
      )
      THEN 'LR507'
    END AS "lr:c0",
    CASE
      WHEN (
        CAST("id" AS VARCHAR) IS NULL
        OR (CAST("id" AS VARCHAR) < '!' AND trim(CAST("id" AS VARCHAR), ' ' || chr(9)) = '')
      )
      THEN 'the record has no `id`'
    END AS "lr:m0"
  FROM "lr:source"
),
"lr:checked" AS (
  SELECT * REPLACE (
    TRY_CAST(
      "leukoencephalopathy_type" AS ENUM('drug_induced', 'other', 'pml', 'post_infectious', 'toxic')
    ) AS "leukoencephalopathy_type",
    TRY_CAST(
      "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
    ) AS "causative_drug",
    TRY_CAST(
      "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
    ) AS "corticosteroid_response",
    TRY_CAST(
      "plasma_exchange_response" AS ENUM('not_responding', 'not_started', 'responding')
    ) AS "plasma_exchange_response",
    TRY_CAST(
      "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
    ) AS "symptom_course",
    TRY_CAST("csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')) AS "csf_findings",
    TRY_CAST(
      "mri_findings" AS ENUM('abnormal', 'minimal_residual', 'normalized', 'progressed')
    ) AS "mri_findings"
  ),
    CASE
      WHEN NOT (
        "lr:c0" IS NOT NULL
        OR COALESCE(
          (
            "leukoencephalopathy_type" IS NOT NULL
            AND TRY_CAST(
              "leukoencephalopathy_type" AS ENUM(
                'drug_induced',
                'other',
                'pml',
                'post_infectious',
                'toxic'
              )
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "causative_drug" IS NOT NULL
            AND TRY_CAST(
              "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "corticosteroid_response" IS NOT NULL
            AND TRY_CAST(
              "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "plasma_exchange_response" IS NOT NULL
            AND TRY_CAST(
              "plasma_exchange_response" AS ENUM('not_responding', 'not_started', 'responding')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "symptom_course" IS NOT NULL
            AND TRY_CAST(
              "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "csf_findings" IS NOT NULL
            AND TRY_CAST("csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "mri_findings" IS NOT NULL
            AND TRY_CAST(
              "mri_findings" AS ENUM('abnormal', 'minimal_residual', 'normalized', 'progressed')
            ) IS NULL
          ),
          FALSE
        )
      )
      THEN CASE
        WHEN (
          COALESCE(
            (
              ("leukoencephalopathy_type" = 'pml')
              AND ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
            ),
            FALSE
          )
          AND NOT COALESCE(("pml_medication_induced"), TRUE)
        )
          OR (
            COALESCE((("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced")), FALSE)
            AND NOT COALESCE(
              ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
              TRUE
            )
          )
          OR (
            COALESCE(("leukoencephalopathy_type" = 'drug_induced'), FALSE)
            AND NOT COALESCE(
              ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
              TRUE
            )
          )
        THEN list_distinct(
          list_filter(
            [
              CASE
                WHEN (
                  COALESCE(
                    (
                      ("leukoencephalopathy_type" = 'pml')
                      AND ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
                    ),
                    FALSE
                  )
                  AND NOT COALESCE(("pml_medication_induced"), TRUE)
                )
                THEN 'LR508'
              END,
              CASE
                WHEN (
                  COALESCE(
                    (("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced")),
                    FALSE
                  )
                  AND NOT COALESCE(
                    ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
                    TRUE
                  )
                )
                THEN 'LR508'
              END,
              CASE
                WHEN (
                  COALESCE(("leukoencephalopathy_type" = 'drug_induced'), FALSE)
                  AND NOT COALESCE(
                    ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
                    TRUE
                  )
                )
                THEN 'LR508'
              END
            ],
            lambda x: x IS NOT NULL
          )
        )
        ELSE CAST([] AS VARCHAR[])
      END
      ELSE CASE
        WHEN "lr:c0" IS NOT NULL
          OR COALESCE(
            (
              "leukoencephalopathy_type" IS NOT NULL
              AND TRY_CAST(
                "leukoencephalopathy_type" AS ENUM(
                  'drug_induced',
                  'other',
                  'pml',
                  'post_infectious',
                  'toxic'
                )
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "causative_drug" IS NOT NULL
              AND TRY_CAST(
                "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "corticosteroid_response" IS NOT NULL
              AND TRY_CAST(
                "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "plasma_exchange_response" IS NOT NULL
              AND TRY_CAST(
                "plasma_exchange_response" AS ENUM('not_responding', 'not_started', 'responding')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "symptom_course" IS NOT NULL
              AND TRY_CAST(
                "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "csf_findings" IS NOT NULL
              AND TRY_CAST("csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "mri_findings" IS NOT NULL
              AND TRY_CAST(
                "mri_findings" AS ENUM('abnormal', 'minimal_residual', 'normalized', 'progressed')
              ) IS NULL
            ),
            FALSE
          )
        THEN list_distinct(
          list_filter(
            [
              "lr:c0",
              CASE
                WHEN (
                  "leukoencephalopathy_type" IS NOT NULL
                  AND TRY_CAST(
                    "leukoencephalopathy_type" AS ENUM(
                      'drug_induced',
                      'other',
                      'pml',
                      'post_infectious',
                      'toxic'
                    )
                  ) IS NULL
                )
                THEN 'LR504'
              END,
              CASE
                WHEN (
                  "causative_drug" IS NOT NULL
                  AND TRY_CAST(
                    "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
                  ) IS NULL
                )
                THEN 'LR504'
              END,
              CASE
                WHEN (
                  "corticosteroid_response" IS NOT NULL
                  AND TRY_CAST(
                    "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
                  ) IS NULL
                )
                THEN 'LR504'
              END,
              CASE
                WHEN (
                  "plasma_exchange_response" IS NOT NULL
                  AND TRY_CAST(
                    "plasma_exchange_response" AS ENUM(
                      'not_responding',
                      'not_started',
                      'responding'
                    )
                  ) IS NULL
                )
                THEN 'LR504'
              END,
              CASE
                WHEN (
                  "symptom_course" IS NOT NULL
                  AND TRY_CAST(
                    "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
                  ) IS NULL
                )
                THEN 'LR504'
              END,
              CASE
                WHEN (
                  "csf_findings" IS NOT NULL
                  AND TRY_CAST(
                    "csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')
                  ) IS NULL
                )
                THEN 'LR504'
              END,
              CASE
                WHEN (
                  "mri_findings" IS NOT NULL
                  AND TRY_CAST(
                    "mri_findings" AS ENUM(
                      'abnormal',
                      'minimal_residual',
                      'normalized',
                      'progressed'
                    )
                  ) IS NULL
                )
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
      WHEN NOT (
        "lr:c0" IS NOT NULL
        OR COALESCE(
          (
            "leukoencephalopathy_type" IS NOT NULL
            AND TRY_CAST(
              "leukoencephalopathy_type" AS ENUM(
                'drug_induced',
                'other',
                'pml',
                'post_infectious',
                'toxic'
              )
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "causative_drug" IS NOT NULL
            AND TRY_CAST(
              "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "corticosteroid_response" IS NOT NULL
            AND TRY_CAST(
              "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "plasma_exchange_response" IS NOT NULL
            AND TRY_CAST(
              "plasma_exchange_response" AS ENUM('not_responding', 'not_started', 'responding')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "symptom_course" IS NOT NULL
            AND TRY_CAST(
              "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
            ) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "csf_findings" IS NOT NULL
            AND TRY_CAST("csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')) IS NULL
          ),
          FALSE
        )
        OR COALESCE(
          (
            "mri_findings" IS NOT NULL
            AND TRY_CAST(
              "mri_findings" AS ENUM('abnormal', 'minimal_residual', 'normalized', 'progressed')
            ) IS NULL
          ),
          FALSE
        )
      )
      THEN CASE
        WHEN (
          COALESCE(
            (
              ("leukoencephalopathy_type" = 'pml')
              AND ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
            ),
            FALSE
          )
          AND NOT COALESCE(("pml_medication_induced"), TRUE)
        )
          OR (
            COALESCE((("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced")), FALSE)
            AND NOT COALESCE(
              ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
              TRUE
            )
          )
          OR (
            COALESCE(("leukoencephalopathy_type" = 'drug_induced'), FALSE)
            AND NOT COALESCE(
              ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
              TRUE
            )
          )
        THEN NULLIF(
          concat_ws(
            '; ',
            CASE
              WHEN (
                COALESCE(
                  (
                    ("leukoencephalopathy_type" = 'pml')
                    AND ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
                  ),
                  FALSE
                )
                AND NOT COALESCE(("pml_medication_induced"), TRUE)
              )
              THEN 'facts contradict each other: a causative drug is recorded for this PML, so it is medication-induced PML; `pml_medication_induced` cannot be false'
            END,
            CASE
              WHEN (
                COALESCE(
                  (("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced")),
                  FALSE
                )
                AND NOT COALESCE(
                  ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
                  TRUE
                )
              )
              THEN 'facts contradict each other: medication-induced PML is attributed to a drug, so `causative_drug` cannot be none'
            END,
            CASE
              WHEN (
                COALESCE(("leukoencephalopathy_type" = 'drug_induced'), FALSE)
                AND NOT COALESCE(
                  ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other')),
                  TRUE
                )
              )
              THEN 'facts contradict each other: drug-induced leukoencephalopathy is attributed to a drug, so `causative_drug` cannot be none'
            END
          ),
          ''
        )
      END
      ELSE CASE
        WHEN "lr:c0" IS NOT NULL
          OR COALESCE(
            (
              "leukoencephalopathy_type" IS NOT NULL
              AND TRY_CAST(
                "leukoencephalopathy_type" AS ENUM(
                  'drug_induced',
                  'other',
                  'pml',
                  'post_infectious',
                  'toxic'
                )
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "causative_drug" IS NOT NULL
              AND TRY_CAST(
                "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "corticosteroid_response" IS NOT NULL
              AND TRY_CAST(
                "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "plasma_exchange_response" IS NOT NULL
              AND TRY_CAST(
                "plasma_exchange_response" AS ENUM('not_responding', 'not_started', 'responding')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "symptom_course" IS NOT NULL
              AND TRY_CAST(
                "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
              ) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "csf_findings" IS NOT NULL
              AND TRY_CAST("csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')) IS NULL
            ),
            FALSE
          )
          OR COALESCE(
            (
              "mri_findings" IS NOT NULL
              AND TRY_CAST(
                "mri_findings" AS ENUM('abnormal', 'minimal_residual', 'normalized', 'progressed')
              ) IS NULL
            ),
            FALSE
          )
        THEN NULLIF(
          concat_ws(
            '; ',
            "lr:m0",
            CASE
              WHEN (
                "leukoencephalopathy_type" IS NOT NULL
                AND TRY_CAST(
                  "leukoencephalopathy_type" AS ENUM(
                    'drug_induced',
                    'other',
                    'pml',
                    'post_infectious',
                    'toxic'
                  )
                ) IS NULL
              )
              THEN (
                '`' || "leukoencephalopathy_type" || '` is not an allowed value of `leukoencephalopathy_type`'
              )
            END,
            CASE
              WHEN (
                "causative_drug" IS NOT NULL
                AND TRY_CAST(
                  "causative_drug" AS ENUM('mycophenolic_acid', 'none', 'other', 'rituximab')
                ) IS NULL
              )
              THEN ('`' || "causative_drug" || '` is not an allowed value of `causative_drug`')
            END,
            CASE
              WHEN (
                "corticosteroid_response" IS NOT NULL
                AND TRY_CAST(
                  "corticosteroid_response" AS ENUM('not_responding', 'not_started', 'responding')
                ) IS NULL
              )
              THEN (
                '`' || "corticosteroid_response" || '` is not an allowed value of `corticosteroid_response`'
              )
            END,
            CASE
              WHEN (
                "plasma_exchange_response" IS NOT NULL
                AND TRY_CAST(
                  "plasma_exchange_response" AS ENUM('not_responding', 'not_started', 'responding')
                ) IS NULL
              )
              THEN (
                '`' || "plasma_exchange_response" || '` is not an allowed value of `plasma_exchange_response`'
              )
            END,
            CASE
              WHEN (
                "symptom_course" IS NOT NULL
                AND TRY_CAST(
                  "symptom_course" AS ENUM('improved', 'progressed', 'resolved', 'unchanged')
                ) IS NULL
              )
              THEN ('`' || "symptom_course" || '` is not an allowed value of `symptom_course`')
            END,
            CASE
              WHEN (
                "csf_findings" IS NOT NULL
                AND TRY_CAST("csf_findings" AS ENUM('abnormal', 'normalized', 'progressed')) IS NULL
              )
              THEN ('`' || "csf_findings" || '` is not an allowed value of `csf_findings`')
            END,
            CASE
              WHEN (
                "mri_findings" IS NOT NULL
                AND TRY_CAST(
                  "mri_findings" AS ENUM('abnormal', 'minimal_residual', 'normalized', 'progressed')
                ) IS NULL
              )
              THEN ('`' || "mri_findings" || '` is not an allowed value of `mri_findings`')
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
    TRUE AS "fired:approach.supportive_care",
    ("leukoencephalopathy_type" = 'pml') AS "fired:pml.cause",
    (
      ("leukoencephalopathy_type" = 'pml') AND ("immune_restoration_possible")
    ) AS "fired:pml.immune_restoration",
    (
      ("leukoencephalopathy_type" = 'pml') AND ("hiv_positive")
    ) AS "fired:pml.hiv_antiretroviral_therapy",
    (
      ("leukoencephalopathy_type" = 'pml')
      AND (
        ("pml_medication_induced")
        OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
      )
    ) AS "fired:pml.medication_induced.no_antiviral",
    (
      ("leukoencephalopathy_type" = 'pml')
      AND (
        ("pml_medication_induced")
        OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
      )
      AND ("checkpoint_inhibitor_candidate")
    ) AS "fired:pml.medication_induced.checkpoint_inhibitors",
    (
      ("causative_drug" = 'mycophenolic_acid')
      AND (("pml_signs") OR ("leukoencephalopathy_type" = 'pml'))
    ) AS "fired:drug_induced.mycophenolic_acid.cessation",
    ("leukoencephalopathy_type" = 'post_infectious') AS "fired:adem.corticosteroids",
    (
      ("leukoencephalopathy_type" = 'post_infectious')
      AND ("plasma_exchange_response" = 'not_responding')
    ) AS "fired:adem.ivig",
    (
      ("leukoencephalopathy_type" = 'toxic') AND ("toxic_exposure_ongoing")
    ) AS "fired:toxic.remove_exposure",
    (
      ("leukoencephalopathy_type" = 'toxic') AND ("electrolyte_imbalance")
    ) AS "fired:toxic.correct_electrolytes",
    (
      ("leukoencephalopathy_type" = 'toxic') AND (("agitation") OR ("seizures"))
    ) AS "fired:toxic.benzodiazepines",
    ("neuropathic_pain") AS "fired:supportive.neuropathic_pain",
    ("seizures") AS "fired:supportive.seizures",
    ("raised_intracranial_pressure") AS "fired:supportive.raised_intracranial_pressure",
    ("motor_deficits") AS "fired:rehabilitation.physical_occupational_therapy",
    (
      ("neurological_symptoms") OR ("motor_deficits") OR ("dysarthria_or_dysphasia")
    ) AS "fired:rehabilitation.functional_training",
    ("dysarthria_or_dysphasia") AS "fired:rehabilitation.speech_therapy",
    TRUE AS "fired:imaging.serial_mri",
    ("symptom_course" IN ('resolved', 'improved')) AS "fired:imaging.radiological_lag",
    (
      ("symptom_course" IN ('resolved', 'improved'))
      AND ("mri_findings" IN ('minimal_residual', 'abnormal'))
    ) AS "fired:imaging.persistent_t2_flair_lesions",
    ("leukoencephalopathy_type" = 'pml') AS "fired:laboratory.pml_csf_jc_virus",
    ("leukoencephalopathy_type" = 'drug_induced') AS "fired:laboratory.drug_induced_blood_tests",
    (
      ("symptom_course" = 'resolved')
      AND ("csf_findings" = 'normalized')
      AND ("mri_findings" IN ('normalized', 'minimal_residual'))
    ) AS "fired:response.complete_remission",
    (
      (
        ("symptom_course" = 'improved')
        OR (
          ("symptom_course" = 'resolved')
          AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
        )
      )
      AND ("mri_findings" IN ('normalized', 'minimal_residual', 'abnormal'))
      AND ("csf_findings" IN ('normalized', 'abnormal'))
    ) AS "fired:response.partial_response",
    TRUE AS "fired:considerations.symptoms_guide_treatment",
    TRUE AS "fired:considerations.permanent_deficits",
    (
      ("on_treatment") AND ("clinical_decline")
    ) AS "fired:considerations.decline_may_be_treatment_toxicity",
    (
      ("immune_mediated") OR ("leukoencephalopathy_type" = 'post_infectious')
    ) AS "fired:considerations.blood_pressure_control"
  FROM "lr:checked"
),
"lr:layer2" AS (
  SELECT "lr:layer1".*,
    (
      ("corticosteroid_response" = 'not_responding') AND "fired:adem.corticosteroids"
    ) AS "fired:adem.plasma_exchange",
    (
      ("symptom_course" IN ('unchanged', 'progressed'))
      OR ("mri_findings" IN ('abnormal', 'progressed'))
      OR ("csf_findings" IN ('abnormal', 'progressed'))
    ) AS "pre:response.non_response",
    (
      (
        ("symptom_course" IN ('unchanged', 'progressed'))
        OR ("mri_findings" IN ('abnormal', 'progressed'))
        OR ("csf_findings" IN ('abnormal', 'progressed'))
      )
      AND NOT ("fired:response.partial_response")
    ) AS "fired:response.non_response",
    (
      ("pres") AND "fired:considerations.blood_pressure_control"
    ) AS "fired:considerations.blood_pressure_control_pres"
  FROM "lr:layer1"
),
"lr:layer3" AS (
  SELECT "lr:layer2".*,
    CAST(
      CASE
        WHEN COALESCE("fired:response.complete_remission", FALSE)
          AND COALESCE(
            NOT ("fired:response.partial_response" OR "fired:response.non_response"),
            FALSE
          )
        THEN 'complete_remission'
        WHEN COALESCE("fired:response.partial_response", FALSE)
          AND COALESCE(
            NOT ("fired:response.complete_remission" OR "fired:response.non_response"),
            FALSE
          )
        THEN 'partial_response'
        WHEN COALESCE("fired:response.non_response", FALSE)
          AND COALESCE(
            NOT ("fired:response.complete_remission" OR "fired:response.partial_response"),
            FALSE
          )
        THEN 'non_response'
      END AS VARCHAR
    ) AS "response"
  FROM "lr:layer2"
)
SELECT "lr:row" AS "row",
  "lr:id" AS "id",
  "lr:codes" AS "codes",
  "lr:reason" AS "reason",
  "fired:approach.supportive_care" AS "r0",
  "fired:pml.cause" AS "r1",
  "fired:pml.immune_restoration" AS "r2",
  "fired:pml.hiv_antiretroviral_therapy" AS "r3",
  "fired:pml.medication_induced.no_antiviral" AS "r4",
  "fired:pml.medication_induced.checkpoint_inhibitors" AS "r5",
  "fired:drug_induced.mycophenolic_acid.cessation" AS "r6",
  "fired:adem.corticosteroids" AS "r7",
  "fired:adem.plasma_exchange" AS "r8",
  "fired:adem.ivig" AS "r9",
  "fired:toxic.remove_exposure" AS "r10",
  "fired:toxic.correct_electrolytes" AS "r11",
  "fired:toxic.benzodiazepines" AS "r12",
  "fired:supportive.neuropathic_pain" AS "r13",
  "fired:supportive.seizures" AS "r14",
  "fired:supportive.raised_intracranial_pressure" AS "r15",
  "fired:rehabilitation.physical_occupational_therapy" AS "r16",
  "fired:rehabilitation.functional_training" AS "r17",
  "fired:rehabilitation.speech_therapy" AS "r18",
  "fired:imaging.serial_mri" AS "r19",
  "fired:imaging.radiological_lag" AS "r20",
  "fired:imaging.persistent_t2_flair_lesions" AS "r21",
  "fired:laboratory.pml_csf_jc_virus" AS "r22",
  "fired:laboratory.drug_induced_blood_tests" AS "r23",
  "fired:response.complete_remission" AS "r24",
  "fired:response.partial_response" AS "r25",
  "fired:response.non_response" AS "r26",
  "fired:considerations.symptoms_guide_treatment" AS "r27",
  "fired:considerations.permanent_deficits" AS "r28",
  "fired:considerations.decline_may_be_treatment_toxicity" AS "r29",
  "fired:considerations.blood_pressure_control" AS "r30",
  "fired:considerations.blood_pressure_control_pres" AS "r31",
  struct_pack("response" := "response") AS "derived",
  "leukoencephalopathy_type" IS NULL AS "t0",
  "immune_restoration_possible" IS NULL AS "t1",
  "hiv_positive" IS NULL AS "t2",
  (
    (
      ("pml_medication_induced")
      OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
    )
  ) IS NULL AS "t3",
  "pml_medication_induced" IS NULL AS "t4",
  "causative_drug" IS NULL AS "t5",
  "checkpoint_inhibitor_candidate" IS NULL AS "t6",
  ((("pml_signs") OR ("leukoencephalopathy_type" = 'pml'))) IS NULL AS "t7",
  "pml_signs" IS NULL AS "t8",
  "plasma_exchange_response" IS NULL AS "t9",
  "toxic_exposure_ongoing" IS NULL AS "t10",
  "electrolyte_imbalance" IS NULL AS "t11",
  ((("agitation") OR ("seizures"))) IS NULL AS "t12",
  "agitation" IS NULL AS "t13",
  "seizures" IS NULL AS "t14",
  "neuropathic_pain" IS NULL AS "t15",
  "raised_intracranial_pressure" IS NULL AS "t16",
  "motor_deficits" IS NULL AS "t17",
  "neurological_symptoms" IS NULL AS "t18",
  "dysarthria_or_dysphasia" IS NULL AS "t19",
  "symptom_course" IS NULL AS "t20",
  "mri_findings" IS NULL AS "t21",
  "csf_findings" IS NULL AS "t22",
  (
    (
      ("symptom_course" = 'improved')
      OR (
        ("symptom_course" = 'resolved')
        AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
      )
    )
  ) IS NULL AS "t23",
  (
    (
      ("symptom_course" = 'resolved')
      AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
    )
  ) IS NULL AS "t24",
  ((("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))) IS NULL AS "t25",
  "on_treatment" IS NULL AS "t26",
  "clinical_decline" IS NULL AS "t27",
  "immune_mediated" IS NULL AS "t28",
  "corticosteroid_response" IS NULL AS "t29",
  (
    (
      ("symptom_course" IN ('unchanged', 'progressed'))
      OR ("mri_findings" IN ('abnormal', 'progressed'))
      OR ("csf_findings" IN ('abnormal', 'progressed'))
    )
  ) IS NULL AS "t30",
  "pres" IS NULL AS "t31"
FROM "lr:layer3";
