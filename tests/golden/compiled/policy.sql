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
      WHEN (CAST("id" AS VARCHAR) IS NULL OR trim(CAST("id" AS VARCHAR), ' ' || chr(9)) = '')
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
      WHEN (CAST("id" AS VARCHAR) IS NULL OR trim(CAST("id" AS VARCHAR), ' ' || chr(9)) = '')
      THEN 'LR507'
    END AS "lr:c0",
    CASE
      WHEN (CAST("id" AS VARCHAR) IS NULL OR trim(CAST("id" AS VARCHAR), ' ' || chr(9)) = '')
      THEN 'the record has no `id`'
    END AS "lr:m0"
  FROM "lr:source"
),
"lr:checked" AS (
  SELECT *,
    CASE
      WHEN NOT (
        "lr:c0" IS NOT NULL
        OR COALESCE(
          "leukoencephalopathy_type" NOT IN (
            'pml',
            'drug_induced',
            'post_infectious',
            'toxic',
            'other'
          ),
          FALSE
        )
        OR COALESCE(
          "causative_drug" NOT IN ('mycophenolic_acid', 'rituximab', 'other', 'none'),
          FALSE
        )
        OR COALESCE(
          "corticosteroid_response" NOT IN ('not_started', 'responding', 'not_responding'),
          FALSE
        )
        OR COALESCE(
          "plasma_exchange_response" NOT IN ('not_started', 'responding', 'not_responding'),
          FALSE
        )
        OR COALESCE(
          "symptom_course" NOT IN ('resolved', 'improved', 'unchanged', 'progressed'),
          FALSE
        )
        OR COALESCE("csf_findings" NOT IN ('normalized', 'abnormal', 'progressed'), FALSE)
        OR COALESCE(
          "mri_findings" NOT IN ('normalized', 'minimal_residual', 'abnormal', 'progressed'),
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
          AND NOT COALESCE(("pml_medication_induced" = TRUE), TRUE)
        )
          OR (
            COALESCE(
              (("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced" = TRUE)),
              FALSE
            )
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
                  AND NOT COALESCE(("pml_medication_induced" = TRUE), TRUE)
                )
                THEN 'LR508'
              END,
              CASE
                WHEN (
                  COALESCE(
                    (("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced" = TRUE)),
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
            "leukoencephalopathy_type" NOT IN (
              'pml',
              'drug_induced',
              'post_infectious',
              'toxic',
              'other'
            ),
            FALSE
          )
          OR COALESCE(
            "causative_drug" NOT IN ('mycophenolic_acid', 'rituximab', 'other', 'none'),
            FALSE
          )
          OR COALESCE(
            "corticosteroid_response" NOT IN ('not_started', 'responding', 'not_responding'),
            FALSE
          )
          OR COALESCE(
            "plasma_exchange_response" NOT IN ('not_started', 'responding', 'not_responding'),
            FALSE
          )
          OR COALESCE(
            "symptom_course" NOT IN ('resolved', 'improved', 'unchanged', 'progressed'),
            FALSE
          )
          OR COALESCE("csf_findings" NOT IN ('normalized', 'abnormal', 'progressed'), FALSE)
          OR COALESCE(
            "mri_findings" NOT IN ('normalized', 'minimal_residual', 'abnormal', 'progressed'),
            FALSE
          )
        THEN list_distinct(
          list_filter(
            [
              "lr:c0",
              CASE
                WHEN "leukoencephalopathy_type" NOT IN (
                  'pml',
                  'drug_induced',
                  'post_infectious',
                  'toxic',
                  'other'
                )
                THEN 'LR504'
              END,
              CASE
                WHEN "causative_drug" NOT IN ('mycophenolic_acid', 'rituximab', 'other', 'none')
                THEN 'LR504'
              END,
              CASE
                WHEN "corticosteroid_response" NOT IN (
                  'not_started',
                  'responding',
                  'not_responding'
                )
                THEN 'LR504'
              END,
              CASE
                WHEN "plasma_exchange_response" NOT IN (
                  'not_started',
                  'responding',
                  'not_responding'
                )
                THEN 'LR504'
              END,
              CASE
                WHEN "symptom_course" NOT IN ('resolved', 'improved', 'unchanged', 'progressed')
                THEN 'LR504'
              END,
              CASE
                WHEN "csf_findings" NOT IN ('normalized', 'abnormal', 'progressed') THEN 'LR504'
              END,
              CASE
                WHEN "mri_findings" NOT IN (
                  'normalized',
                  'minimal_residual',
                  'abnormal',
                  'progressed'
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
          "leukoencephalopathy_type" NOT IN (
            'pml',
            'drug_induced',
            'post_infectious',
            'toxic',
            'other'
          ),
          FALSE
        )
        OR COALESCE(
          "causative_drug" NOT IN ('mycophenolic_acid', 'rituximab', 'other', 'none'),
          FALSE
        )
        OR COALESCE(
          "corticosteroid_response" NOT IN ('not_started', 'responding', 'not_responding'),
          FALSE
        )
        OR COALESCE(
          "plasma_exchange_response" NOT IN ('not_started', 'responding', 'not_responding'),
          FALSE
        )
        OR COALESCE(
          "symptom_course" NOT IN ('resolved', 'improved', 'unchanged', 'progressed'),
          FALSE
        )
        OR COALESCE("csf_findings" NOT IN ('normalized', 'abnormal', 'progressed'), FALSE)
        OR COALESCE(
          "mri_findings" NOT IN ('normalized', 'minimal_residual', 'abnormal', 'progressed'),
          FALSE
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
              AND NOT COALESCE(("pml_medication_induced" = TRUE), TRUE)
            )
            THEN 'facts contradict each other: a causative drug is recorded for this PML, so it is medication-induced PML; `pml_medication_induced` cannot be false'
          END,
          CASE
            WHEN (
              COALESCE(
                (("leukoencephalopathy_type" = 'pml') AND ("pml_medication_induced" = TRUE)),
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
      ELSE CASE
        WHEN "lr:c0" IS NOT NULL
          OR COALESCE(
            "leukoencephalopathy_type" NOT IN (
              'pml',
              'drug_induced',
              'post_infectious',
              'toxic',
              'other'
            ),
            FALSE
          )
          OR COALESCE(
            "causative_drug" NOT IN ('mycophenolic_acid', 'rituximab', 'other', 'none'),
            FALSE
          )
          OR COALESCE(
            "corticosteroid_response" NOT IN ('not_started', 'responding', 'not_responding'),
            FALSE
          )
          OR COALESCE(
            "plasma_exchange_response" NOT IN ('not_started', 'responding', 'not_responding'),
            FALSE
          )
          OR COALESCE(
            "symptom_course" NOT IN ('resolved', 'improved', 'unchanged', 'progressed'),
            FALSE
          )
          OR COALESCE("csf_findings" NOT IN ('normalized', 'abnormal', 'progressed'), FALSE)
          OR COALESCE(
            "mri_findings" NOT IN ('normalized', 'minimal_residual', 'abnormal', 'progressed'),
            FALSE
          )
        THEN NULLIF(
          concat_ws(
            '; ',
            "lr:m0",
            CASE
              WHEN "leukoencephalopathy_type" NOT IN (
                'pml',
                'drug_induced',
                'post_infectious',
                'toxic',
                'other'
              )
              THEN (
                '`' || "leukoencephalopathy_type" || '` is not an allowed value of `leukoencephalopathy_type`'
              )
            END,
            CASE
              WHEN "causative_drug" NOT IN ('mycophenolic_acid', 'rituximab', 'other', 'none')
              THEN ('`' || "causative_drug" || '` is not an allowed value of `causative_drug`')
            END,
            CASE
              WHEN "corticosteroid_response" NOT IN ('not_started', 'responding', 'not_responding')
              THEN (
                '`' || "corticosteroid_response" || '` is not an allowed value of `corticosteroid_response`'
              )
            END,
            CASE
              WHEN "plasma_exchange_response" NOT IN ('not_started', 'responding', 'not_responding')
              THEN (
                '`' || "plasma_exchange_response" || '` is not an allowed value of `plasma_exchange_response`'
              )
            END,
            CASE
              WHEN "symptom_course" NOT IN ('resolved', 'improved', 'unchanged', 'progressed')
              THEN ('`' || "symptom_course" || '` is not an allowed value of `symptom_course`')
            END,
            CASE
              WHEN "csf_findings" NOT IN ('normalized', 'abnormal', 'progressed')
              THEN ('`' || "csf_findings" || '` is not an allowed value of `csf_findings`')
            END,
            CASE
              WHEN "mri_findings" NOT IN (
                'normalized',
                'minimal_residual',
                'abnormal',
                'progressed'
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
      ("leukoencephalopathy_type" = 'pml') AND ("immune_restoration_possible" = TRUE)
    ) AS "fired:pml.immune_restoration",
    (
      ("leukoencephalopathy_type" = 'pml') AND ("hiv_positive" = TRUE)
    ) AS "fired:pml.hiv_antiretroviral_therapy",
    (
      ("leukoencephalopathy_type" = 'pml')
      AND (
        ("pml_medication_induced" = TRUE)
        OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
      )
    ) AS "fired:pml.medication_induced.no_antiviral",
    (
      ("leukoencephalopathy_type" = 'pml')
      AND (
        ("pml_medication_induced" = TRUE)
        OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
      )
      AND ("checkpoint_inhibitor_candidate" = TRUE)
    ) AS "fired:pml.medication_induced.checkpoint_inhibitors",
    (
      ("causative_drug" = 'mycophenolic_acid')
      AND (("pml_signs" = TRUE) OR ("leukoencephalopathy_type" = 'pml'))
    ) AS "fired:drug_induced.mycophenolic_acid.cessation",
    ("leukoencephalopathy_type" = 'post_infectious') AS "fired:adem.corticosteroids",
    (
      ("leukoencephalopathy_type" = 'post_infectious')
      AND ("plasma_exchange_response" = 'not_responding')
    ) AS "fired:adem.ivig",
    (
      ("leukoencephalopathy_type" = 'toxic') AND ("toxic_exposure_ongoing" = TRUE)
    ) AS "fired:toxic.remove_exposure",
    (
      ("leukoencephalopathy_type" = 'toxic') AND ("electrolyte_imbalance" = TRUE)
    ) AS "fired:toxic.correct_electrolytes",
    (
      ("leukoencephalopathy_type" = 'toxic') AND (("agitation" = TRUE) OR ("seizures" = TRUE))
    ) AS "fired:toxic.benzodiazepines",
    ("neuropathic_pain" = TRUE) AS "fired:supportive.neuropathic_pain",
    ("seizures" = TRUE) AS "fired:supportive.seizures",
    ("raised_intracranial_pressure" = TRUE) AS "fired:supportive.raised_intracranial_pressure",
    ("motor_deficits" = TRUE) AS "fired:rehabilitation.physical_occupational_therapy",
    (
      ("neurological_symptoms" = TRUE)
      OR ("motor_deficits" = TRUE)
      OR ("dysarthria_or_dysphasia" = TRUE)
    ) AS "fired:rehabilitation.functional_training",
    ("dysarthria_or_dysphasia" = TRUE) AS "fired:rehabilitation.speech_therapy",
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
      ("on_treatment" = TRUE) AND ("clinical_decline" = TRUE)
    ) AS "fired:considerations.decline_may_be_treatment_toxicity",
    (
      ("immune_mediated" = TRUE) OR ("leukoencephalopathy_type" = 'post_infectious')
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
      ("pres" = TRUE) AND "fired:considerations.blood_pressure_control"
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
),
"lr:missing1" AS (
  SELECT "lr:layer3".*,
    COALESCE(
      "fired:pml.cause" IS NULL AND (("leukoencephalopathy_type" IS NULL)),
      FALSE
    ) AS "missing:pml.cause:leukoencephalopathy_type",
    COALESCE(
      "fired:pml.immune_restoration" IS NULL AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:pml.immune_restoration:leukoencephalopathy_type",
    COALESCE(
      "fired:pml.immune_restoration" IS NULL AND ((("immune_restoration_possible" IS NULL))),
      FALSE
    ) AS "missing:pml.immune_restoration:immune_restoration_possible",
    COALESCE(
      "fired:pml.hiv_antiretroviral_therapy" IS NULL AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:pml.hiv_antiretroviral_therapy:leukoencephalopathy_type",
    COALESCE(
      "fired:pml.hiv_antiretroviral_therapy" IS NULL AND ((("hiv_positive" IS NULL))),
      FALSE
    ) AS "missing:pml.hiv_antiretroviral_therapy:hiv_positive",
    COALESCE(
      "fired:pml.medication_induced.no_antiviral" IS NULL
      AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:pml.medication_induced.no_antiviral:leukoencephalopathy_type",
    COALESCE(
      "fired:pml.medication_induced.no_antiviral" IS NULL
      AND (
        (
          (
            (
              (
                ("pml_medication_induced" = TRUE)
                OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
              )
            ) IS NULL
            AND (("pml_medication_induced" IS NULL))
          )
        )
      ),
      FALSE
    ) AS "missing:pml.medication_induced.no_antiviral:pml_medication_induced",
    COALESCE(
      "fired:pml.medication_induced.no_antiviral" IS NULL
      AND (
        (
          (
            (
              (
                ("pml_medication_induced" = TRUE)
                OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
              )
            ) IS NULL
            AND (("causative_drug" IS NULL))
          )
        )
      ),
      FALSE
    ) AS "missing:pml.medication_induced.no_antiviral:causative_drug",
    COALESCE(
      "fired:pml.medication_induced.checkpoint_inhibitors" IS NULL
      AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:pml.medication_induced.checkpoint_inhibitors:leukoencephalopathy_type",
    COALESCE(
      "fired:pml.medication_induced.checkpoint_inhibitors" IS NULL
      AND (
        (
          (
            (
              (
                ("pml_medication_induced" = TRUE)
                OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
              )
            ) IS NULL
            AND (("pml_medication_induced" IS NULL))
          )
        )
      ),
      FALSE
    ) AS "missing:pml.medication_induced.checkpoint_inhibitors:pml_medication_induced",
    COALESCE(
      "fired:pml.medication_induced.checkpoint_inhibitors" IS NULL
      AND (
        (
          (
            (
              (
                ("pml_medication_induced" = TRUE)
                OR ("causative_drug" IN ('mycophenolic_acid', 'rituximab', 'other'))
              )
            ) IS NULL
            AND (("causative_drug" IS NULL))
          )
        )
      ),
      FALSE
    ) AS "missing:pml.medication_induced.checkpoint_inhibitors:causative_drug",
    COALESCE(
      "fired:pml.medication_induced.checkpoint_inhibitors" IS NULL
      AND ((("checkpoint_inhibitor_candidate" IS NULL))),
      FALSE
    ) AS "missing:pml.medication_induced.checkpoint_inhibitors:checkpoint_inhibitor_candidate",
    COALESCE(
      "fired:drug_induced.mycophenolic_acid.cessation" IS NULL AND ((("causative_drug" IS NULL))),
      FALSE
    ) AS "missing:drug_induced.mycophenolic_acid.cessation:causative_drug",
    COALESCE(
      "fired:drug_induced.mycophenolic_acid.cessation" IS NULL
      AND (
        (
          (
            ((("pml_signs" = TRUE) OR ("leukoencephalopathy_type" = 'pml'))) IS NULL
            AND (("pml_signs" IS NULL))
          )
        )
      ),
      FALSE
    ) AS "missing:drug_induced.mycophenolic_acid.cessation:pml_signs",
    COALESCE(
      "fired:drug_induced.mycophenolic_acid.cessation" IS NULL
      AND (
        (
          (
            ((("pml_signs" = TRUE) OR ("leukoencephalopathy_type" = 'pml'))) IS NULL
            AND (("leukoencephalopathy_type" IS NULL))
          )
        )
      ),
      FALSE
    ) AS "missing:drug_induced.mycophenolic_acid.cessation:leukoencephalopathy_type",
    COALESCE(
      "fired:adem.corticosteroids" IS NULL AND (("leukoencephalopathy_type" IS NULL)),
      FALSE
    ) AS "missing:adem.corticosteroids:leukoencephalopathy_type",
    COALESCE(
      "fired:adem.ivig" IS NULL AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:adem.ivig:leukoencephalopathy_type",
    COALESCE(
      "fired:adem.ivig" IS NULL AND ((("plasma_exchange_response" IS NULL))),
      FALSE
    ) AS "missing:adem.ivig:plasma_exchange_response",
    COALESCE(
      "fired:toxic.remove_exposure" IS NULL AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:toxic.remove_exposure:leukoencephalopathy_type",
    COALESCE(
      "fired:toxic.remove_exposure" IS NULL AND ((("toxic_exposure_ongoing" IS NULL))),
      FALSE
    ) AS "missing:toxic.remove_exposure:toxic_exposure_ongoing",
    COALESCE(
      "fired:toxic.correct_electrolytes" IS NULL AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:toxic.correct_electrolytes:leukoencephalopathy_type",
    COALESCE(
      "fired:toxic.correct_electrolytes" IS NULL AND ((("electrolyte_imbalance" IS NULL))),
      FALSE
    ) AS "missing:toxic.correct_electrolytes:electrolyte_imbalance",
    COALESCE(
      "fired:toxic.benzodiazepines" IS NULL AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:toxic.benzodiazepines:leukoencephalopathy_type",
    COALESCE(
      "fired:toxic.benzodiazepines" IS NULL
      AND (((((("agitation" = TRUE) OR ("seizures" = TRUE))) IS NULL AND (("agitation" IS NULL))))),
      FALSE
    ) AS "missing:toxic.benzodiazepines:agitation",
    COALESCE(
      "fired:toxic.benzodiazepines" IS NULL
      AND (((((("agitation" = TRUE) OR ("seizures" = TRUE))) IS NULL AND (("seizures" IS NULL))))),
      FALSE
    ) AS "missing:toxic.benzodiazepines:seizures",
    COALESCE(
      "fired:supportive.neuropathic_pain" IS NULL AND (("neuropathic_pain" IS NULL)),
      FALSE
    ) AS "missing:supportive.neuropathic_pain:neuropathic_pain",
    COALESCE(
      "fired:supportive.seizures" IS NULL AND (("seizures" IS NULL)),
      FALSE
    ) AS "missing:supportive.seizures:seizures",
    COALESCE(
      "fired:supportive.raised_intracranial_pressure" IS NULL
      AND (("raised_intracranial_pressure" IS NULL)),
      FALSE
    ) AS "missing:supportive.raised_intracranial_pressure:raised_intracranial_pressure",
    COALESCE(
      "fired:rehabilitation.physical_occupational_therapy" IS NULL AND (("motor_deficits" IS NULL)),
      FALSE
    ) AS "missing:rehabilitation.physical_occupational_therapy:motor_deficits",
    COALESCE(
      "fired:rehabilitation.functional_training" IS NULL AND ((("neurological_symptoms" IS NULL))),
      FALSE
    ) AS "missing:rehabilitation.functional_training:neurological_symptoms",
    COALESCE(
      "fired:rehabilitation.functional_training" IS NULL AND ((("motor_deficits" IS NULL))),
      FALSE
    ) AS "missing:rehabilitation.functional_training:motor_deficits",
    COALESCE(
      "fired:rehabilitation.functional_training" IS NULL AND ((("dysarthria_or_dysphasia" IS NULL))),
      FALSE
    ) AS "missing:rehabilitation.functional_training:dysarthria_or_dysphasia",
    COALESCE(
      "fired:rehabilitation.speech_therapy" IS NULL AND (("dysarthria_or_dysphasia" IS NULL)),
      FALSE
    ) AS "missing:rehabilitation.speech_therapy:dysarthria_or_dysphasia",
    COALESCE(
      "fired:imaging.radiological_lag" IS NULL AND (("symptom_course" IS NULL)),
      FALSE
    ) AS "missing:imaging.radiological_lag:symptom_course",
    COALESCE(
      "fired:imaging.persistent_t2_flair_lesions" IS NULL AND ((("symptom_course" IS NULL))),
      FALSE
    ) AS "missing:imaging.persistent_t2_flair_lesions:symptom_course",
    COALESCE(
      "fired:imaging.persistent_t2_flair_lesions" IS NULL AND ((("mri_findings" IS NULL))),
      FALSE
    ) AS "missing:imaging.persistent_t2_flair_lesions:mri_findings",
    COALESCE(
      "fired:laboratory.pml_csf_jc_virus" IS NULL AND (("leukoencephalopathy_type" IS NULL)),
      FALSE
    ) AS "missing:laboratory.pml_csf_jc_virus:leukoencephalopathy_type",
    COALESCE(
      "fired:laboratory.drug_induced_blood_tests" IS NULL AND (("leukoencephalopathy_type" IS NULL)),
      FALSE
    ) AS "missing:laboratory.drug_induced_blood_tests:leukoencephalopathy_type",
    COALESCE(
      "fired:response.complete_remission" IS NULL AND ((("symptom_course" IS NULL))),
      FALSE
    ) AS "missing:response.complete_remission:symptom_course",
    COALESCE(
      "fired:response.complete_remission" IS NULL AND ((("csf_findings" IS NULL))),
      FALSE
    ) AS "missing:response.complete_remission:csf_findings",
    COALESCE(
      "fired:response.complete_remission" IS NULL AND ((("mri_findings" IS NULL))),
      FALSE
    ) AS "missing:response.complete_remission:mri_findings",
    COALESCE(
      "fired:response.partial_response" IS NULL
      AND (
        (
          (
            (
              (
                ("symptom_course" = 'improved')
                OR (
                  ("symptom_course" = 'resolved')
                  AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
                )
              )
            ) IS NULL
            AND (
              ("symptom_course" IS NULL)
              OR (
                (
                  (
                    ("symptom_course" = 'resolved')
                    AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
                  )
                ) IS NULL
                AND (("symptom_course" IS NULL))
              )
            )
          )
        )
      ),
      FALSE
    ) AS "missing:response.partial_response:symptom_course",
    COALESCE(
      "fired:response.partial_response" IS NULL
      AND (
        (
          (
            (
              (
                ("symptom_course" = 'improved')
                OR (
                  ("symptom_course" = 'resolved')
                  AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
                )
              )
            ) IS NULL
            AND (
              (
                (
                  (
                    ("symptom_course" = 'resolved')
                    AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
                  )
                ) IS NULL
                AND (
                  (
                    ((("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))) IS NULL
                    AND (("mri_findings" IS NULL))
                  )
                )
              )
            )
          )
          OR ("mri_findings" IS NULL)
        )
      ),
      FALSE
    ) AS "missing:response.partial_response:mri_findings",
    COALESCE(
      "fired:response.partial_response" IS NULL
      AND (
        (
          (
            (
              (
                ("symptom_course" = 'improved')
                OR (
                  ("symptom_course" = 'resolved')
                  AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
                )
              )
            ) IS NULL
            AND (
              (
                (
                  (
                    ("symptom_course" = 'resolved')
                    AND (("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))
                  )
                ) IS NULL
                AND (
                  (
                    ((("mri_findings" = 'abnormal') OR ("csf_findings" = 'abnormal'))) IS NULL
                    AND (("csf_findings" IS NULL))
                  )
                )
              )
            )
          )
          OR ("csf_findings" IS NULL)
        )
      ),
      FALSE
    ) AS "missing:response.partial_response:csf_findings",
    COALESCE(
      "fired:considerations.decline_may_be_treatment_toxicity" IS NULL
      AND ((("on_treatment" IS NULL))),
      FALSE
    ) AS "missing:considerations.decline_may_be_treatment_toxicity:on_treatment",
    COALESCE(
      "fired:considerations.decline_may_be_treatment_toxicity" IS NULL
      AND ((("clinical_decline" IS NULL))),
      FALSE
    ) AS "missing:considerations.decline_may_be_treatment_toxicity:clinical_decline",
    COALESCE(
      "fired:considerations.blood_pressure_control" IS NULL AND ((("immune_mediated" IS NULL))),
      FALSE
    ) AS "missing:considerations.blood_pressure_control:immune_mediated",
    COALESCE(
      "fired:considerations.blood_pressure_control" IS NULL
      AND ((("leukoencephalopathy_type" IS NULL))),
      FALSE
    ) AS "missing:considerations.blood_pressure_control:leukoencephalopathy_type"
  FROM "lr:layer3"
),
"lr:missing2" AS (
  SELECT "lr:missing1".*,
    COALESCE(
      "fired:adem.plasma_exchange" IS NULL AND (("corticosteroid_response" IS NULL)),
      FALSE
    ) AS "missing:adem.plasma_exchange:corticosteroid_response",
    COALESCE(
      "fired:adem.plasma_exchange" IS NULL
      AND ("missing:adem.corticosteroids:leukoencephalopathy_type"),
      FALSE
    ) AS "missing:adem.plasma_exchange:leukoencephalopathy_type",
    COALESCE(
      "fired:response.non_response" IS NULL
      AND (
        (
          (
            (
              ("symptom_course" IN ('unchanged', 'progressed'))
              OR ("mri_findings" IN ('abnormal', 'progressed'))
              OR ("csf_findings" IN ('abnormal', 'progressed'))
            )
          ) IS NULL
          AND (("symptom_course" IS NULL))
        )
        OR "missing:response.partial_response:symptom_course"
      ),
      FALSE
    ) AS "missing:response.non_response:symptom_course",
    COALESCE(
      "fired:response.non_response" IS NULL
      AND (
        (
          (
            (
              ("symptom_course" IN ('unchanged', 'progressed'))
              OR ("mri_findings" IN ('abnormal', 'progressed'))
              OR ("csf_findings" IN ('abnormal', 'progressed'))
            )
          ) IS NULL
          AND (("mri_findings" IS NULL))
        )
        OR "missing:response.partial_response:mri_findings"
      ),
      FALSE
    ) AS "missing:response.non_response:mri_findings",
    COALESCE(
      "fired:response.non_response" IS NULL
      AND (
        (
          (
            (
              ("symptom_course" IN ('unchanged', 'progressed'))
              OR ("mri_findings" IN ('abnormal', 'progressed'))
              OR ("csf_findings" IN ('abnormal', 'progressed'))
            )
          ) IS NULL
          AND (("csf_findings" IS NULL))
        )
        OR "missing:response.partial_response:csf_findings"
      ),
      FALSE
    ) AS "missing:response.non_response:csf_findings",
    COALESCE(
      "fired:considerations.blood_pressure_control_pres" IS NULL AND (("pres" IS NULL)),
      FALSE
    ) AS "missing:considerations.blood_pressure_control_pres:pres",
    COALESCE(
      "fired:considerations.blood_pressure_control_pres" IS NULL
      AND ("missing:considerations.blood_pressure_control:immune_mediated"),
      FALSE
    ) AS "missing:considerations.blood_pressure_control_pres:immune_mediated",
    COALESCE(
      "fired:considerations.blood_pressure_control_pres" IS NULL
      AND ("missing:considerations.blood_pressure_control:leukoencephalopathy_type"),
      FALSE
    ) AS "missing:considerations.blood_pressure_control_pres:leukoencephalopathy_type"
  FROM "lr:missing1"
)
SELECT "lr:row" AS "row",
  "lr:id" AS "id",
  "lr:codes" AS "codes",
  "lr:reason" AS "reason",
  CAST(
    (
      CASE WHEN "fired:approach.supportive_care" THEN 1 ELSE 0 END + CASE
        WHEN "fired:pml.cause" THEN 2
        ELSE 0
      END + CASE WHEN "fired:pml.immune_restoration" THEN 4 ELSE 0 END + CASE
        WHEN "fired:pml.hiv_antiretroviral_therapy" THEN 8
        ELSE 0
      END + CASE WHEN "fired:pml.medication_induced.no_antiviral" THEN 16 ELSE 0 END + CASE
        WHEN "fired:pml.medication_induced.checkpoint_inhibitors" THEN 32
        ELSE 0
      END + CASE WHEN "fired:drug_induced.mycophenolic_acid.cessation" THEN 64 ELSE 0 END + CASE
        WHEN "fired:adem.corticosteroids" THEN 128
        ELSE 0
      END + CASE WHEN "fired:adem.plasma_exchange" THEN 256 ELSE 0 END + CASE
        WHEN "fired:adem.ivig" THEN 512
        ELSE 0
      END + CASE WHEN "fired:toxic.remove_exposure" THEN 1024 ELSE 0 END + CASE
        WHEN "fired:toxic.correct_electrolytes" THEN 2048
        ELSE 0
      END + CASE WHEN "fired:toxic.benzodiazepines" THEN 4096 ELSE 0 END + CASE
        WHEN "fired:supportive.neuropathic_pain" THEN 8192
        ELSE 0
      END + CASE WHEN "fired:supportive.seizures" THEN 16384 ELSE 0 END + CASE
        WHEN "fired:supportive.raised_intracranial_pressure" THEN 32768
        ELSE 0
      END + CASE WHEN "fired:rehabilitation.physical_occupational_therapy" THEN 65536 ELSE 0 END + CASE
        WHEN "fired:rehabilitation.functional_training" THEN 131072
        ELSE 0
      END + CASE WHEN "fired:rehabilitation.speech_therapy" THEN 262144 ELSE 0 END + CASE
        WHEN "fired:imaging.serial_mri" THEN 524288
        ELSE 0
      END + CASE WHEN "fired:imaging.radiological_lag" THEN 1048576 ELSE 0 END + CASE
        WHEN "fired:imaging.persistent_t2_flair_lesions" THEN 2097152
        ELSE 0
      END + CASE WHEN "fired:laboratory.pml_csf_jc_virus" THEN 4194304 ELSE 0 END + CASE
        WHEN "fired:laboratory.drug_induced_blood_tests" THEN 8388608
        ELSE 0
      END + CASE WHEN "fired:response.complete_remission" THEN 16777216 ELSE 0 END + CASE
        WHEN "fired:response.partial_response" THEN 33554432
        ELSE 0
      END + CASE WHEN "fired:response.non_response" THEN 67108864 ELSE 0 END + CASE
        WHEN "fired:considerations.symptoms_guide_treatment" THEN 134217728
        ELSE 0
      END + CASE WHEN "fired:considerations.permanent_deficits" THEN 268435456 ELSE 0 END + CASE
        WHEN "fired:considerations.decline_may_be_treatment_toxicity" THEN 536870912
        ELSE 0
      END + CASE WHEN "fired:considerations.blood_pressure_control" THEN 1073741824 ELSE 0 END + CASE
        WHEN "fired:considerations.blood_pressure_control_pres" THEN 2147483648
        ELSE 0
      END
    ) AS BIGINT
  ) AS "fired_mask0",
  CAST(
    (
      CASE WHEN "fired:approach.supportive_care" IS NULL THEN 1 ELSE 0 END + CASE
        WHEN "fired:pml.cause" IS NULL THEN 2
        ELSE 0
      END + CASE WHEN "fired:pml.immune_restoration" IS NULL THEN 4 ELSE 0 END + CASE
        WHEN "fired:pml.hiv_antiretroviral_therapy" IS NULL THEN 8
        ELSE 0
      END + CASE WHEN "fired:pml.medication_induced.no_antiviral" IS NULL THEN 16 ELSE 0 END + CASE
        WHEN "fired:pml.medication_induced.checkpoint_inhibitors" IS NULL THEN 32
        ELSE 0
      END + CASE WHEN "fired:drug_induced.mycophenolic_acid.cessation" IS NULL THEN 64 ELSE 0 END + CASE
        WHEN "fired:adem.corticosteroids" IS NULL THEN 128
        ELSE 0
      END + CASE WHEN "fired:adem.plasma_exchange" IS NULL THEN 256 ELSE 0 END + CASE
        WHEN "fired:adem.ivig" IS NULL THEN 512
        ELSE 0
      END + CASE WHEN "fired:toxic.remove_exposure" IS NULL THEN 1024 ELSE 0 END + CASE
        WHEN "fired:toxic.correct_electrolytes" IS NULL THEN 2048
        ELSE 0
      END + CASE WHEN "fired:toxic.benzodiazepines" IS NULL THEN 4096 ELSE 0 END + CASE
        WHEN "fired:supportive.neuropathic_pain" IS NULL THEN 8192
        ELSE 0
      END + CASE WHEN "fired:supportive.seizures" IS NULL THEN 16384 ELSE 0 END + CASE
        WHEN "fired:supportive.raised_intracranial_pressure" IS NULL THEN 32768
        ELSE 0
      END + CASE
        WHEN "fired:rehabilitation.physical_occupational_therapy" IS NULL THEN 65536
        ELSE 0
      END + CASE WHEN "fired:rehabilitation.functional_training" IS NULL THEN 131072 ELSE 0 END + CASE
        WHEN "fired:rehabilitation.speech_therapy" IS NULL THEN 262144
        ELSE 0
      END + CASE WHEN "fired:imaging.serial_mri" IS NULL THEN 524288 ELSE 0 END + CASE
        WHEN "fired:imaging.radiological_lag" IS NULL THEN 1048576
        ELSE 0
      END + CASE WHEN "fired:imaging.persistent_t2_flair_lesions" IS NULL THEN 2097152 ELSE 0 END + CASE
        WHEN "fired:laboratory.pml_csf_jc_virus" IS NULL THEN 4194304
        ELSE 0
      END + CASE WHEN "fired:laboratory.drug_induced_blood_tests" IS NULL THEN 8388608 ELSE 0 END + CASE
        WHEN "fired:response.complete_remission" IS NULL THEN 16777216
        ELSE 0
      END + CASE WHEN "fired:response.partial_response" IS NULL THEN 33554432 ELSE 0 END + CASE
        WHEN "fired:response.non_response" IS NULL THEN 67108864
        ELSE 0
      END + CASE
        WHEN "fired:considerations.symptoms_guide_treatment" IS NULL THEN 134217728
        ELSE 0
      END + CASE WHEN "fired:considerations.permanent_deficits" IS NULL THEN 268435456 ELSE 0 END + CASE
        WHEN "fired:considerations.decline_may_be_treatment_toxicity" IS NULL THEN 536870912
        ELSE 0
      END + CASE
        WHEN "fired:considerations.blood_pressure_control" IS NULL THEN 1073741824
        ELSE 0
      END + CASE
        WHEN "fired:considerations.blood_pressure_control_pres" IS NULL THEN 2147483648
        ELSE 0
      END
    ) AS BIGINT
  ) AS "undetermined_mask0",
  struct_pack("response" := "response") AS "derived",
  "missing:pml.cause:leukoencephalopathy_type" AS "m0",
  "missing:pml.immune_restoration:leukoencephalopathy_type" AS "m1",
  "missing:pml.immune_restoration:immune_restoration_possible" AS "m2",
  "missing:pml.hiv_antiretroviral_therapy:leukoencephalopathy_type" AS "m3",
  "missing:pml.hiv_antiretroviral_therapy:hiv_positive" AS "m4",
  "missing:pml.medication_induced.no_antiviral:leukoencephalopathy_type" AS "m5",
  "missing:pml.medication_induced.no_antiviral:pml_medication_induced" AS "m6",
  "missing:pml.medication_induced.no_antiviral:causative_drug" AS "m7",
  "missing:pml.medication_induced.checkpoint_inhibitors:leukoencephalopathy_type" AS "m8",
  "missing:pml.medication_induced.checkpoint_inhibitors:pml_medication_induced" AS "m9",
  "missing:pml.medication_induced.checkpoint_inhibitors:causative_drug" AS "m10",
  "missing:pml.medication_induced.checkpoint_inhibitors:checkpoint_inhibitor_candidate" AS "m11",
  "missing:drug_induced.mycophenolic_acid.cessation:causative_drug" AS "m12",
  "missing:drug_induced.mycophenolic_acid.cessation:pml_signs" AS "m13",
  "missing:drug_induced.mycophenolic_acid.cessation:leukoencephalopathy_type" AS "m14",
  "missing:adem.corticosteroids:leukoencephalopathy_type" AS "m15",
  "missing:adem.ivig:leukoencephalopathy_type" AS "m16",
  "missing:adem.ivig:plasma_exchange_response" AS "m17",
  "missing:toxic.remove_exposure:leukoencephalopathy_type" AS "m18",
  "missing:toxic.remove_exposure:toxic_exposure_ongoing" AS "m19",
  "missing:toxic.correct_electrolytes:leukoencephalopathy_type" AS "m20",
  "missing:toxic.correct_electrolytes:electrolyte_imbalance" AS "m21",
  "missing:toxic.benzodiazepines:leukoencephalopathy_type" AS "m22",
  "missing:toxic.benzodiazepines:agitation" AS "m23",
  "missing:toxic.benzodiazepines:seizures" AS "m24",
  "missing:supportive.neuropathic_pain:neuropathic_pain" AS "m25",
  "missing:supportive.seizures:seizures" AS "m26",
  "missing:supportive.raised_intracranial_pressure:raised_intracranial_pressure" AS "m27",
  "missing:rehabilitation.physical_occupational_therapy:motor_deficits" AS "m28",
  "missing:rehabilitation.functional_training:neurological_symptoms" AS "m29",
  "missing:rehabilitation.functional_training:motor_deficits" AS "m30",
  "missing:rehabilitation.functional_training:dysarthria_or_dysphasia" AS "m31",
  "missing:rehabilitation.speech_therapy:dysarthria_or_dysphasia" AS "m32",
  "missing:imaging.radiological_lag:symptom_course" AS "m33",
  "missing:imaging.persistent_t2_flair_lesions:symptom_course" AS "m34",
  "missing:imaging.persistent_t2_flair_lesions:mri_findings" AS "m35",
  "missing:laboratory.pml_csf_jc_virus:leukoencephalopathy_type" AS "m36",
  "missing:laboratory.drug_induced_blood_tests:leukoencephalopathy_type" AS "m37",
  "missing:response.complete_remission:symptom_course" AS "m38",
  "missing:response.complete_remission:csf_findings" AS "m39",
  "missing:response.complete_remission:mri_findings" AS "m40",
  "missing:response.partial_response:symptom_course" AS "m41",
  "missing:response.partial_response:mri_findings" AS "m42",
  "missing:response.partial_response:csf_findings" AS "m43",
  "missing:considerations.decline_may_be_treatment_toxicity:on_treatment" AS "m44",
  "missing:considerations.decline_may_be_treatment_toxicity:clinical_decline" AS "m45",
  "missing:considerations.blood_pressure_control:immune_mediated" AS "m46",
  "missing:considerations.blood_pressure_control:leukoencephalopathy_type" AS "m47",
  "missing:adem.plasma_exchange:corticosteroid_response" AS "m48",
  "missing:adem.plasma_exchange:leukoencephalopathy_type" AS "m49",
  "missing:response.non_response:symptom_course" AS "m50",
  "missing:response.non_response:mri_findings" AS "m51",
  "missing:response.non_response:csf_findings" AS "m52",
  "missing:considerations.blood_pressure_control_pres:pres" AS "m53",
  "missing:considerations.blood_pressure_control_pres:immune_mediated" AS "m54",
  "missing:considerations.blood_pressure_control_pres:leukoencephalopathy_type" AS "m55",
  (
    "missing:pml.cause:leukoencephalopathy_type"
    OR "missing:pml.immune_restoration:leukoencephalopathy_type"
    OR "missing:pml.hiv_antiretroviral_therapy:leukoencephalopathy_type"
    OR "missing:pml.medication_induced.no_antiviral:leukoencephalopathy_type"
    OR "missing:pml.medication_induced.checkpoint_inhibitors:leukoencephalopathy_type"
    OR "missing:drug_induced.mycophenolic_acid.cessation:leukoencephalopathy_type"
    OR "missing:adem.corticosteroids:leukoencephalopathy_type"
    OR "missing:adem.ivig:leukoencephalopathy_type"
    OR "missing:toxic.remove_exposure:leukoencephalopathy_type"
    OR "missing:toxic.correct_electrolytes:leukoencephalopathy_type"
    OR "missing:toxic.benzodiazepines:leukoencephalopathy_type"
    OR "missing:laboratory.pml_csf_jc_virus:leukoencephalopathy_type"
    OR "missing:laboratory.drug_induced_blood_tests:leukoencephalopathy_type"
    OR "missing:considerations.blood_pressure_control:leukoencephalopathy_type"
    OR "missing:adem.plasma_exchange:leukoencephalopathy_type"
    OR "missing:considerations.blood_pressure_control_pres:leukoencephalopathy_type"
  ) AS "f0",
  ("missing:pml.immune_restoration:immune_restoration_possible") AS "f1",
  ("missing:pml.hiv_antiretroviral_therapy:hiv_positive") AS "f2",
  (
    "missing:pml.medication_induced.no_antiviral:pml_medication_induced"
    OR "missing:pml.medication_induced.checkpoint_inhibitors:pml_medication_induced"
  ) AS "f3",
  (
    "missing:pml.medication_induced.no_antiviral:causative_drug"
    OR "missing:pml.medication_induced.checkpoint_inhibitors:causative_drug"
    OR "missing:drug_induced.mycophenolic_acid.cessation:causative_drug"
  ) AS "f4",
  ("missing:pml.medication_induced.checkpoint_inhibitors:checkpoint_inhibitor_candidate") AS "f5",
  ("missing:drug_induced.mycophenolic_acid.cessation:pml_signs") AS "f6",
  ("missing:adem.ivig:plasma_exchange_response") AS "f7",
  ("missing:toxic.remove_exposure:toxic_exposure_ongoing") AS "f8",
  ("missing:toxic.correct_electrolytes:electrolyte_imbalance") AS "f9",
  ("missing:toxic.benzodiazepines:agitation") AS "f10",
  ("missing:toxic.benzodiazepines:seizures" OR "missing:supportive.seizures:seizures") AS "f11",
  ("missing:supportive.neuropathic_pain:neuropathic_pain") AS "f12",
  ("missing:supportive.raised_intracranial_pressure:raised_intracranial_pressure") AS "f13",
  (
    "missing:rehabilitation.physical_occupational_therapy:motor_deficits"
    OR "missing:rehabilitation.functional_training:motor_deficits"
  ) AS "f14",
  ("missing:rehabilitation.functional_training:neurological_symptoms") AS "f15",
  (
    "missing:rehabilitation.functional_training:dysarthria_or_dysphasia"
    OR "missing:rehabilitation.speech_therapy:dysarthria_or_dysphasia"
  ) AS "f16",
  (
    "missing:imaging.radiological_lag:symptom_course"
    OR "missing:imaging.persistent_t2_flair_lesions:symptom_course"
    OR "missing:response.complete_remission:symptom_course"
    OR "missing:response.partial_response:symptom_course"
    OR "missing:response.non_response:symptom_course"
  ) AS "f17",
  (
    "missing:imaging.persistent_t2_flair_lesions:mri_findings"
    OR "missing:response.complete_remission:mri_findings"
    OR "missing:response.partial_response:mri_findings"
    OR "missing:response.non_response:mri_findings"
  ) AS "f18",
  (
    "missing:response.complete_remission:csf_findings"
    OR "missing:response.partial_response:csf_findings"
    OR "missing:response.non_response:csf_findings"
  ) AS "f19",
  ("missing:considerations.decline_may_be_treatment_toxicity:on_treatment") AS "f20",
  ("missing:considerations.decline_may_be_treatment_toxicity:clinical_decline") AS "f21",
  (
    "missing:considerations.blood_pressure_control:immune_mediated"
    OR "missing:considerations.blood_pressure_control_pres:immune_mediated"
  ) AS "f22",
  ("missing:adem.plasma_exchange:corticosteroid_response") AS "f23",
  ("missing:considerations.blood_pressure_control_pres:pres") AS "f24"
FROM "lr:missing2";
