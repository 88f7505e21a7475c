/*
 * names.c - the stable names of the policy's enumerations, as written in
 * policy files and JSON output. The loader reads the same names (load.c);
 * a name changed here is a change of the file format.
 */
#include "policy_int.h"

#include <string.h>

const char *sg_basis_name(enum sg_basis b)
{
    switch (b) {
    case SG_BASIS_CONSENT:
        return "consent";
    case SG_BASIS_CONTRACT:
        return "contract";
    case SG_BASIS_LEGAL_OBLIGATION:
        return "legal_obligation";
    case SG_BASIS_VITAL_INTERESTS:
        return "vital_interests";
    case SG_BASIS_PUBLIC_TASK:
        return "public_task";
    case SG_BASIS_LEGITIMATE_INTEREST:
        return "legitimate_interest";
    }
    return "none";
}

const char *sg_action_name(enum sg_action a)
{
    switch (a) {
    case SG_ACT_DELETE:
        return "delete";
    case SG_ACT_ANONYMISE:
        return "anonymise";
    case SG_ACT_HIDE:
        return "hide";
    case SG_ACT_NOTIFY:
        return "notify";
    case SG_ACT_RESTRICT:
        return "restrict";
    case SG_ACT_KEEP:
        return "keep";
    }
    return "none";
}

const char *sg_safeguard_name(enum sg_safeguard s)
{
    switch (s) {
    case SG_SAFE_NONE:
        return "none";
    case SG_SAFE_ADEQUACY:
        return "adequacy";
    case SG_SAFE_SCC:
        return "scc";
    case SG_SAFE_BCR:
        return "bcr";
    case SG_SAFE_AD_HOC:
        return "ad_hoc_clauses";
    case SG_SAFE_ADMIN:
        return "administrative_arrangement";
    case SG_SAFE_CODE:
        return "code_of_conduct";
    case SG_SAFE_CERTIFICATION:
        return "certification";
    case SG_SAFE_DEROGATION:
        return "derogation";
    }
    return "none";
}

const char *sg_special_name(enum sg_special s)
{
    switch (s) {
    case SG_SPECIAL_NONE:
        return "none";
    case SG_SPECIAL_RACIAL_ETHNIC:
        return "racial_ethnic";
    case SG_SPECIAL_POLITICAL:
        return "political";
    case SG_SPECIAL_BELIEFS:
        return "beliefs";
    case SG_SPECIAL_UNION:
        return "union";
    case SG_SPECIAL_GENETIC:
        return "genetic";
    case SG_SPECIAL_BIOMETRIC:
        return "biometric";
    case SG_SPECIAL_HEALTH:
        return "health";
    case SG_SPECIAL_SEX_LIFE:
        return "sex_life";
    case SG_SPECIAL_CRIMINAL:
        return "criminal";
    }
    return "none";
}

const char *sg_art9_name(enum sg_art9 c)
{
    static const char *const n[] = {
        "none",           "explicit_consent", "employment",        "vital_interests",
        "not_for_profit", "made_public",      "legal_claims",      "public_interest",
        "health_care",    "public_health",    "archiving_research"};
    return (unsigned)c < sizeof n / sizeof n[0] ? n[c] : "none";
}

const char *sg_recipient_kind_name(enum sg_recipient_kind k)
{
    static const char *const n[] = {"processor", "controller", "joint_controller", "authority",
                                    "other"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "other";
}

const char *sg_controller_kind_name(enum sg_controller_kind k)
{
    static const char *const n[] = {"sole", "joint", "eu", "national"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "sole";
}

const char *sg_cookie_kind_name(enum sg_cookie_kind k)
{
    static const char *const n[] = {"strictly_necessary", "preferences", "security", "statistics",
                                    "marketing"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "strictly_necessary";
}

const char *sg_requirement_name(enum sg_requirement r)
{
    static const char *const n[] = {"voluntary", "statutory", "contractual", "precondition"};
    return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "voluntary";
}

const char *sg_role_kind_name(enum sg_role_kind k)
{
    static const char *const n[] = {"staff", "user", "public", "partner", "service"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "staff";
}

const char *sg_rows_name(enum sg_rows r)
{
    static const char *const n[] = {"all", "self", "same_as_viewer", "none"};
    return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "all";
}

int policy_lang_supported(const char *lang)
{
    return lang && (strcmp(lang, "lv") == 0 || strcmp(lang, "en") == 0);
}
