/*  test_sw_spec.c - the sweep spec: every fault named by path and reason, good specs
 *  parsed into the right fields, canonical form, comparison, parameter domains
 *
 *  Specs are written with single quotes for readability; s_json() turns them into
 *  double quotes before parsing.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_spec.h"

/* TEXT with every ' replaced by "; caller frees. */
static char *s_json(const char *text)
{
    char *s = strdup(text);
    assert_non_null(s);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

/* A spec around PARAMS (the inside of "parameters") with METHOD and EXTRA top-level
 * fields (",'key':value..." or ""); caller frees. */
static char *s_spec(const char *method, const char *params, const char *extra)
{
    char *t = NULL;
    assert_true(asprintf(&t,
                         "{'name':'t1','objective':{'metric':'val_loss','direction':'minimize'},"
                         "'method':'%s','parameters':{%s},'trainer':{'type':'mlp'}%s}",
                         method, params, extra) > 0);
    char *s = s_json(t);
    free(t);
    return s;
}

static const char *P_LR = "'lr':{'type':'float','low':0.0001,'high':0.1,'log':true}";

/* Parse TEXT (already double-quoted); expect failure with exactly the messages in
 * WANT (NULL-terminated), in order. */
static void s_expect_errors(const char *text, const char *const *want)
{
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), NULL, &errs);
    size_t n = 0;
    while (want[n])
        n++;
    if (spec || errs.count != n) {
        fprintf(stderr, "spec: %s\n", text);
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "  got: %s\n", errs.items[i]);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " want: %s\n", want[i]);
    }
    assert_null(spec);
    assert_int_equal(errs.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(errs.items[i], want[i]);
    sw_errs_clear(&errs);
}

static void s_expect_error(const char *text, const char *want)
{
    const char *list[] = {want, NULL};
    s_expect_errors(text, list);
}

static sw_spec_t *s_parse_ok(const char *text)
{
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), NULL, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "unexpected: %s\n", errs.items[i]);
    assert_int_equal(errs.count, 0);
    assert_non_null(spec);
    sw_errs_clear(&errs);
    return spec;
}

/* The API in one walk: load the example, read fields, canonical form, destroy. */
static void test_walkthrough_pima_grid(void **state)
{
    (void)state;
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_load("examples/pima-grid.json", &errs);
    assert_int_equal(errs.count, 0);
    assert_non_null(spec);
    assert_string_equal(spec->name, "pima-grid");
    assert_string_equal(spec->metric, "val_accuracy");
    assert_int_equal(spec->direction, SW_DIR_MAXIMIZE);
    assert_int_equal(spec->method, SW_METHOD_GRID);
    assert_int_equal(spec->n_params, 3);
    assert_string_equal(spec->params[0].name, "batch_size");
    assert_string_equal(spec->params[1].name, "epochs");
    assert_string_equal(spec->params[2].name, "optimizer");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(spec->params[i].type, SW_PARAM_CATEGORICAL);
        assert_int_equal(spec->params[i].n_values, 3);
        assert_null(spec->params[i].when);
    }
    assert_int_equal(spec->cv_folds, 3);
    assert_true(spec->cv_stratified);
    assert_int_equal(spec->cv_seed, 7);
    assert_int_equal(spec->max_retries, 3);
    assert_int_equal(spec->max_trials, 0);
    assert_int_equal(sw_spec_grid_size(spec), 27);
    assert_null(spec->pruner);
    assert_non_null(spec->trainer);
    assert_string_equal(cJSON_GetObjectItem(spec->trainer, "type")->valuestring, "mlp");
    assert_ptr_equal(sw_spec_param(spec, "epochs"), &spec->params[1]);
    assert_null(sw_spec_param(spec, "lr"));
    assert_non_null(spec->canonical);
    assert_null(strchr(spec->canonical, ' '));
    sw_spec_destroy(&spec);
    assert_null(spec);
    sw_spec_destroy(&spec);     /* twice is fine */
}

static void test_pima_random_fields(void **state)
{
    (void)state;
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_load("examples/pima-random.json", &errs);
    assert_int_equal(errs.count, 0);
    assert_non_null(spec);
    assert_int_equal(spec->method, SW_METHOD_RANDOM);
    assert_int_equal(spec->seed, 1);
    assert_int_equal(spec->max_trials, 30);
    assert_int_equal(spec->n_params, 4);
    const sw_param_t *lr = sw_spec_param(spec, "lr");
    assert_non_null(lr);
    assert_int_equal(lr->type, SW_PARAM_FLOAT);
    assert_true(lr->log);
    assert_true(lr->low == 1e-4 && lr->high == 1e-1);
    const sw_param_t *units = sw_spec_param(spec, "units");
    assert_int_equal(units->type, SW_PARAM_INT);
    assert_true(units->low == 4 && units->high == 64 && units->step == 1);
    assert_int_equal(sw_spec_param(spec, "batch_size")->type, SW_PARAM_CATEGORICAL);
    assert_int_equal(sw_spec_grid_size(spec), -1);
    assert_int_equal(spec->cv_folds, 3);
    sw_spec_destroy(&spec);
}

static void test_defaults(void **state)
{
    (void)state;
    char *t = s_spec("random", P_LR, "");
    sw_spec_t *spec = s_parse_ok(t);
    assert_int_equal(spec->seed, 0);
    assert_int_equal(spec->cv_folds, 0);
    assert_true(spec->cv_stratified);
    assert_int_equal(spec->cv_seed, 0);
    assert_int_equal(spec->max_trials, 0);
    assert_int_equal(spec->max_failed, 0);
    assert_int_equal(spec->max_retries, 3);
    assert_true(spec->max_time_s == 0 && spec->trial_timeout_s == 0);
    assert_null(spec->pruner);
    assert_null(spec->sampler);
    assert_int_equal(spec->direction, SW_DIR_MINIMIZE);
    sw_spec_destroy(&spec);
    free(t);

    t = s_spec("tpe", P_LR,
               ",'seed':42,'cv':{'folds':5,'stratified':false,'seed':3},"
               "'limits':{'max_trials':200,'max_failed':20,'max_retries':0,'max_time_s':3600,"
               "'trial_timeout_s':1.5},'pruner':{'type':'asha','min_step':1},"
               "'sampler':{'type':'tpe','n_startup_trials':10}");
    spec = s_parse_ok(t);
    assert_int_equal(spec->method, SW_METHOD_TPE);
    assert_int_equal(spec->seed, 42);
    assert_int_equal(spec->cv_folds, 5);
    assert_false(spec->cv_stratified);
    assert_int_equal(spec->cv_seed, 3);
    assert_int_equal(spec->max_trials, 200);
    assert_int_equal(spec->max_failed, 20);
    assert_int_equal(spec->max_retries, 0);
    assert_true(spec->max_time_s == 3600 && spec->trial_timeout_s == 1.5);
    assert_string_equal(cJSON_GetObjectItem(spec->pruner, "type")->valuestring, "asha");
    assert_string_equal(cJSON_GetObjectItem(spec->sampler, "type")->valuestring, "tpe");
    sw_spec_destroy(&spec);
    free(t);
}

/* One malformed spec per row: PARAMS/EXTRA/METHOD go through s_spec(), or RAW is
 * parsed as it is (after quote conversion). */
typedef struct {
    const char *method, *params, *extra, *raw;
    const char *want;
} s_case_t;

static const s_case_t s_cases[] = {
    /* parameters: domains */
    {"random", "'lr':{'type':'double','low':0,'high':1}", "", NULL,
     "parameters.lr.type: unknown type 'double' (expected float, int, categorical)"},
    {"random", "'lr':{'low':0,'high':1}", "", NULL, "parameters.lr.type: required field is missing"},
    {"random", "'lr':{'type':'float','low':2,'high':1}", "", NULL, "parameters.lr.low: must be <= high (2 > 1)"},
    {"random", "'lr':{'type':'float','low':-1e308,'high':1e308}", "", NULL,
     "parameters.lr.high: high - low must be a finite number (1e+308 - -1e+308 overflows)"},
    {"random", "'lr':{'type':'float','low':0,'high':1,'log':true}", "", NULL,
     "parameters.lr.low: must be > 0 when log is true"},
    {"random", "'lr':{'type':'float','low':-1,'high':1,'log':true}", "", NULL,
     "parameters.lr.low: must be > 0 when log is true"},
    {"random", "'x':{'type':'float','low':0,'high':0.9,'step':0.2}", "", NULL,
     "parameters.x.step: high - low (0.9) is not a multiple of step (0.2)"},
    {"random", "'x':{'type':'float','low':0,'high':1,'step':0}", "", NULL, "parameters.x.step: must be > 0 (got 0)"},
    {"random", "'lr':{'type':'float','low':0.001,'high':0.1,'log':true,'step':0.001}", "", NULL,
     "parameters.lr.step: cannot be combined with log"},
    {"random", "'lr':{'type':'float','low':'0','high':1}", "", NULL,
     "parameters.lr.low: must be a number (got string)"},
    {"random", "'lr':{'type':'float','low':0,'high':1e999}", "", NULL,
     "parameters.lr.high: must be a finite number"},
    {"random", "'lr':{'type':'float','high':1}", "", NULL, "parameters.lr.low: required field is missing"},
    {"random", "'lr':{'type':'float','low':0,'high':1,'log':'yes'}", "", NULL,
     "parameters.lr.log: must be a boolean (got string)"},
    {"random", "'lr':5", "", NULL, "parameters.lr: must be an object (got number)"},
    {"random", "'u':{'type':'int','low':4.5,'high':10}", "", NULL, "parameters.u.low: must be an integer (got 4.5)"},
    {"random", "'u':{'type':'int','low':0,'high':10,'step':3}", "", NULL,
     "parameters.u.step: high - low (10) is not a multiple of step (3)"},
    {"random", "'u':{'type':'int','low':0,'high':10,'step':0}", "", NULL, "parameters.u.step: must be >= 1 (got 0)"},
    {"random", "'u':{'type':'int','low':0,'high':10,'log':true}", "", NULL,
     "parameters.u.low: must be >= 1 when log is true"},
    {"random", "'u':{'type':'int','low':1,'high':100,'log':true,'step':3}", "", NULL,
     "parameters.u.step: cannot be combined with log"},
    {"random", "'o':{'type':'categorical','values':'adam'}", "", NULL,
     "parameters.o.values: must be an array (got string)"},
    {"random", "'o':{'type':'categorical','values':[]}", "", NULL, "parameters.o.values: must not be empty"},
    {"random", "'o':{'type':'categorical'}", "", NULL, "parameters.o.values: required field is missing"},
    {"random", "'o':{'type':'categorical','values':['a','b','a']}", "", NULL,
     "parameters.o.values[2]: duplicate of values[0]"},
    {"random", "'b':{'type':'categorical','values':[10,20,10.0]}", "", NULL,
     "parameters.b.values[2]: duplicate of values[0]"},
    {"random", "'o':{'type':'categorical','values':['a',{'x':1}]}", "", NULL,
     "parameters.o.values[1]: must be a number, string, boolean or null (got object)"},
    {"random", "'o':{'type':'categorical','values':['a'],'low':0}", "", NULL,
     "parameters.o.low: not allowed for type categorical"},
    {"random", "'lr':{'type':'float','low':0,'high':1,'values':[1]}", "", NULL,
     "parameters.lr.values: not allowed for type float"},
    {"random", "'my lr':{'type':'float','low':0,'high':1}", "", NULL,
     "parameters.my lr: invalid parameter name (use 1-64 characters from A-Z a-z 0-9 _ -)"},
    {"random", "", "", NULL, "parameters: must not be empty"},
    /* method and grid */
    {"bayes", "'lr':{'type':'float','low':0,'high':1}", "", NULL,
     "method: unknown method 'bayes' (expected grid, random, tpe)"},
    {"grid", "'lr':{'type':'float','low':0,'high':1}", "", NULL,
     "parameters.lr: the grid method needs a finite domain (give this float a step)"},
    {"grid",
     "'a':{'type':'int','low':0,'high':99},'b':{'type':'int','low':0,'high':99},"
     "'c':{'type':'int','low':0,'high':99},'d':{'type':'int','low':0,'high':99}",
     "", NULL, "parameters: the grid has 100000000 points (at most 10000000)"},
    {"grid",
     "'a':{'type':'int','low':0,'high':999999999},'b':{'type':'int','low':0,'high':999999999},"
     "'c':{'type':'int','low':0,'high':999999999}",
     "", NULL, "parameters: the grid has more than 2^63 points (at most 10000000)"},
    /* conditions */
    {"random", "'m':{'type':'float','low':0,'high':1,'when':{'opt':'sgd'}}", "", NULL,
     "parameters.m.when.opt: unknown parameter 'opt'"},
    {"random", "'m':{'type':'float','low':0,'high':1,'when':{'m':0.5}}", "", NULL,
     "parameters.m.when.m: a parameter cannot depend on itself"},
    {"random", "'f':{'type':'float','low':0,'high':1},'m':{'type':'int','low':0,'high':3,'when':{'f':0.5}}",
     "", NULL,
     "parameters.m.when.f: f is a continuous float: a condition on one of its values almost never "
     "holds (give it a step, or make it categorical)"},
    {"random",
     "'m':{'type':'float','low':0,'high':1,'when':{'o':'sgdd'}},'o':{'type':'categorical','values':['adam','sgd']}",
     "", NULL, "parameters.m.when.o: \"sgdd\" is not in the domain of o"},
    {"random",
     "'m':{'type':'float','low':0,'high':1,'when':{'o':['sgd',true]}},'o':{'type':'categorical','values':['adam','sgd']}",
     "", NULL, "parameters.m.when.o[1]: true is not in the domain of o"},
    {"random",
     "'a':{'type':'categorical','values':[1,2],'when':{'b':1}},'b':{'type':'categorical','values':[1,2],'when':{'a':2}}",
     "", NULL, "parameters.a.when: cycle a -> b -> a"},
    {"random", "'m':{'type':'float','low':0,'high':1,'when':'sgd'}", "", NULL,
     "parameters.m.when: must be an object (got string)"},
    /* top-level fields */
    {"random", NULL, ",'frobnicate':1", NULL, "frobnicate: unknown field"},
    {"random", NULL, ",'seed':-1", NULL, "seed: must be >= 0 (got -1)"},
    {"random", NULL, ",'seed':1.5", NULL, "seed: must be an integer (got 1.5)"},
    {"random", NULL, ",'cv':{'folds':1}", NULL, "cv.folds: must be 0 (no cross-validation) or >= 2 (got 1)"},
    {"random", NULL, ",'cv':{'folds':-3}", NULL, "cv.folds: must be 0 (no cross-validation) or >= 2 (got -3)"},
    {"random", NULL, ",'cv':{'folds':2.5}", NULL, "cv.folds: must be an integer (got 2.5)"},
    {"random", NULL, ",'cv':{'folds':3,'stratified':'yes'}", NULL, "cv.stratified: must be a boolean (got string)"},
    {"random", NULL, ",'cv':3", NULL, "cv: must be an object (got number)"},
    {"random", NULL, ",'cv':{'fold':3}", NULL, "cv.fold: unknown field"},
    {"random", NULL, ",'limits':{'max_trials':-5}", NULL, "limits.max_trials: must be >= 0 (got -5)"},
    {"random", NULL, ",'limits':{'max_failed':-1}", NULL, "limits.max_failed: must be >= 0 (got -1)"},
    {"random", NULL, ",'limits':{'max_retries':-1}", NULL, "limits.max_retries: must be >= 0 (got -1)"},
    {"random", NULL, ",'limits':{'max_time_s':-1.5}", NULL, "limits.max_time_s: must be >= 0 (got -1.5)"},
    {"random", NULL, ",'limits':{'trial_timeout_s':'10'}", NULL,
     "limits.trial_timeout_s: must be a number (got string)"},
    {"random", NULL, ",'pruner':{'min_step':1}", NULL, "pruner.type: required field is missing"},
    {"random", NULL, ",'sampler':'tpe'", NULL, "sampler: must be an object (got string)"},
    /* whole documents */
    {NULL, NULL, NULL,
     "{'name':'t1','method':'random','parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'mlp'}}",
     "objective: required field is missing"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'up'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'mlp'}}",
     "objective.direction: unknown direction 'up' (expected minimize, maximize)"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'','direction':'maximize'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'mlp'}}",
     "objective.metric: must not be empty"},
    {NULL, NULL, NULL,
     "{'name':'my sweep','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'mlp'}}",
     "name: must be 1-64 characters from A-Z a-z 0-9 . _ - (got 'my sweep')"},
    {NULL, NULL, NULL,
     "{'name':5,'objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'mlp'}}",
     "name: must be a string (got number)"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}}}",
     "trainer: required field is missing"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'keras'}}",
     "trainer.type: unknown trainer 'keras' (expected mlp, command, function)"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'lr':{'type':'float','low':0,'high':1}},"
     "'trainer':{'type':'command','argv':['python3','train.py','--lr','{lrr}']}}",
     "trainer.argv[3]: unknown placeholder '{lrr}' (no parameter of that name)"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'lr':{'type':'float','low':0,'high':1}},'trainer':{'type':'command','argv':[]}}",
     "trainer.argv: must not be empty"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'lr':{'type':'float','low':0,'high':1}},'trainer':{'type':'command','argv':['run',3]}}",
     "trainer.argv[1]: must be a string (got number)"},
    {NULL, NULL, NULL,
     "{'name':'t1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'lr':{'type':'float','low':0,'high':1}},"
     "'trainer':{'type':'command','argv':['run'],'shell':'run --lr {lr}'}}",
     "trainer.shell: unknown field"},
    {NULL, NULL, NULL,
     "{'name':'a','name':'b','objective':{'metric':'m','direction':'maximize'},'method':'random',"
     "'parameters':{'x':{'type':'int','low':0,'high':3}},'trainer':{'type':'mlp'}}",
     "(root): duplicate key 'name'"},
    {NULL, NULL, NULL, "[1,2]", "(root): must be an object (got array)"},
    /* JSON syntax */
    {NULL, NULL, NULL, "{\n  'name': 't1',\n  'method': }\n", "line 3, column 13: JSON syntax error at '}'"},
    {NULL, NULL, NULL, "{'name': 't1',", "line 1, column 15: JSON syntax error at end of input"},
    {NULL, NULL, NULL, "{'name': 't1'} x", "line 1, column 16: JSON syntax error at 'x'"},
    {NULL, NULL, NULL, "", "line 1, column 1: JSON syntax error at end of input"},
};

static void test_malformed_specs(void **state)
{
    (void)state;
    size_t n = sizeof s_cases / sizeof s_cases[0];
    assert_true(n >= 25);
    for (size_t i = 0; i < n; i++) {
        const s_case_t *k = &s_cases[i];
        char *text = k->raw ? s_json(k->raw) : s_spec(k->method, k->params ? k->params : P_LR, k->extra);
        s_expect_error(text, k->want);
        free(text);
    }
}

/* The pruner and sampler objects: every field, type and range, one exact message
 * each (the rules of sw_spec_pruner_options / sw_spec_tpe_options, which
 * coord_pruner_new and coord_tpe_new read through too). The objective is val_loss,
 * minimize. */
static void test_pruner_sampler_options(void **state)
{
    (void)state;
    static const struct {
        const char *method, *extra, *want;
    } bad[] = {
        {"random", ",'pruner':{'type':'sha'}",
         "pruner.type: must be \"none\", \"median\", \"asha\" or \"hyperband\""},
        {"random", ",'pruner':{'type':3}", "pruner.type: must be a string (got number)"},
        {"random", ",'pruner':{'min_resource':1}", "pruner.type: required field is missing"},
        {"random", ",'pruner':[1]", "pruner: must be an object (got array)"},
        {"random", ",'pruner':{'type':'asha','reduction_factor':1}",
         "pruner.reduction_factor: must be a number > 1"},
        {"random", ",'pruner':{'type':'asha','reduction_factor':'3'}",
         "pruner.reduction_factor: must be a number > 1"},
        {"random", ",'pruner':{'type':'asha','min_resource':0}", "pruner.min_resource: must be a number > 0"},
        {"random", ",'pruner':{'type':'asha','min_step':-1}", "pruner.min_step: must be a number > 0"},
        {"random", ",'pruner':{'type':'asha','max_resource':0}", "pruner.max_resource: must be a number > 0"},
        {"random", ",'pruner':{'type':'asha','min_resource':9,'max_resource':3}",
         "pruner.max_resource: must be >= min_resource"},
        {"random", ",'pruner':{'type':'asha','min_early_stopping_rate':1.5}",
         "pruner.min_early_stopping_rate: must be an integer >= 0"},
        {"random", ",'pruner':{'type':'asha','n_warmup_steps':1}",
         "pruner.n_warmup_steps: unknown option for the asha pruner"},
        {"random", ",'pruner':{'type':'median','n_startup_trials':-1}",
         "pruner.n_startup_trials: must be an integer >= 0"},
        {"random", ",'pruner':{'type':'median','n_warmup_steps':0.5}",
         "pruner.n_warmup_steps: must be an integer >= 0"},
        {"random", ",'pruner':{'type':'median','interval_steps':0}",
         "pruner.interval_steps: must be an integer >= 1"},
        {"random", ",'pruner':{'type':'median','reduction_factor':3}",
         "pruner.reduction_factor: unknown option for the median pruner"},
        {"random", ",'pruner':{'type':'hyperband','min_resource':1}",
         "pruner.max_resource: required field is missing"},
        {"random", ",'pruner':{'type':'hyperband','max_resource':27,'min_early_stopping_rate':1}",
         "pruner.min_early_stopping_rate: unknown option for the hyperband pruner"},
        {"random", ",'pruner':{'type':'none','min_resource':1}",
         "pruner.min_resource: unknown option for the none pruner"},
        {"random", ",'pruner':{'type':'median','folds':1}", "pruner.folds: must be true or false"},
        {"random", ",'pruner':{'type':'median','folds':true}",
         "pruner.folds: fold pruning needs cross-validation (cv.folds >= 2)"},
        {"random", ",'pruner':{'type':'asha','min_step':2,'min_resource':3}",
         "pruner.min_step: give min_resource or its alias min_step, not both"},
        {"random", ",'sampler':{'type':'tpe','n_startup_trials':5}",
         "sampler: sampler options are only used with method tpe (method is random)"},
        {"random", ",'pruner':{'type':'median','metric':''}", "pruner.metric: must be a non-empty string"},
        {"random", ",'pruner':{'type':'median','direction':'down'}",
         "pruner.direction: must be \"minimize\" or \"maximize\""},
        {"random", ",'pruner':{'type':'median','metric':'val_accuracy'}",
         "pruner.direction: required when pruner.metric (\"val_accuracy\") is not the objective's "
         "metric (\"val_loss\")"},
        {"random", ",'pruner':{'type':'median','direction':'maximize'}",
         "pruner.direction: must match objective.direction when the pruner monitors the objective's "
         "metric"},
        {"random", ",'pruner':{'type':'median','metric':'val_loss','direction':'maximize'}",
         "pruner.direction: must match objective.direction when the pruner monitors the objective's "
         "metric"},
        {"tpe", ",'sampler':{'type':'bayes'}", "sampler.type: must be \"tpe\" for the tpe sampler"},
        {"tpe", ",'sampler':{'n_ei_candidates':8}", "sampler.type: required field is missing"},
        {"tpe", ",'sampler':{'type':'tpe','n_ei_candidates':0}",
         "sampler.n_ei_candidates: must be an integer >= 1"},
        {"tpe", ",'sampler':{'type':'tpe','n_ei_candidates':2.5}",
         "sampler.n_ei_candidates: must be an integer >= 1"},
        {"tpe", ",'sampler':{'type':'tpe','n_startup_trials':-1}",
         "sampler.n_startup_trials: must be an integer >= 0"},
        {"tpe", ",'sampler':{'type':'tpe','gamma':0}", "sampler.gamma: must be a number > 0 and <= 1"},
        {"tpe", ",'sampler':{'type':'tpe','gamma':1.5}", "sampler.gamma: must be a number > 0 and <= 1"},
        {"tpe", ",'sampler':{'type':'tpe','prior_weight':0}",
         "sampler.prior_weight: must be a finite number > 0"},
        {"tpe", ",'sampler':{'type':'tpe','multivariate':1}", "sampler.multivariate: must be true or false"},
        {"tpe", ",'sampler':{'type':'tpe','constant_liar':'yes'}",
         "sampler.constant_liar: must be true or false"},
        {"tpe", ",'sampler':{'type':'tpe','consider_endpoints':null}",
         "sampler.consider_endpoints: must be true or false"},
        {"tpe", ",'sampler':{'type':'tpe','estimator':'optuna5'}",
         "sampler.estimator: must be \"optuna3.1\" or \"optuna4\""},
        {"tpe", ",'sampler':{'type':'tpe','n_ei':8}",
         "sampler.n_ei: unknown option for the tpe sampler (known: type, n_startup_trials, "
         "n_ei_candidates, gamma, prior_weight, multivariate, constant_liar, consider_endpoints, "
         "estimator, weights, startup, multivariate_bandwidth)"},
        {"tpe", ",'sampler':{'type':'tpe','weights':'linear'}",
         "sampler.weights: must be \"uniform\" or \"optuna\""},
        {"tpe", ",'sampler':{'type':'tpe','startup':1}",
         "sampler.startup: must be \"lhs\" or \"random\""},
        {"tpe", ",'sampler':{'type':'tpe','startup':'sobol'}",
         "sampler.startup: must be \"lhs\" or \"random\""},
        {"tpe", ",'sampler':{'type':'tpe','multivariate_bandwidth':'scott'}",
         "sampler.multivariate_bandwidth: must be \"hyperopt\" or \"optuna\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = s_spec(bad[i].method, P_LR, bad[i].extra);
        s_expect_error(text, bad[i].want);
        free(text);
    }
    /* Every fault of one object at once, in a fixed order (unknown keys, then each
     * option). */
    char *text = s_spec("tpe", P_LR, ",'pruner':{'type':'asha','reduction_factor':0.5,'bogus':1,"
                                     "'min_resource':-2},'sampler':{'type':'tpe','gamma':2,'x':0}");
    const char *want[] = {
        "pruner.bogus: unknown option for the asha pruner",
        "pruner.min_resource: must be a number > 0",
        "pruner.reduction_factor: must be a number > 1",
        "sampler.x: unknown option for the tpe sampler (known: type, n_startup_trials, "
        "n_ei_candidates, gamma, prior_weight, multivariate, constant_liar, consider_endpoints, "
        "estimator, weights, startup, multivariate_bandwidth)",
        "sampler.gamma: must be a number > 0 and <= 1",
        NULL,
    };
    s_expect_errors(text, want);
    free(text);
    /* Good objects: every option at a legal edge; a monitored metric of its own with
     * its own direction; a real reduction factor. */
    static const char *const good[] = {
        ",'pruner':{'type':'none'}",
        ",'pruner':{'type':'median','n_startup_trials':0,'n_warmup_steps':0,'interval_steps':1,"
        "'folds':true,'metric':'val_accuracy','direction':'maximize'},'cv':{'folds':3}",
        ",'pruner':{'type':'median','metric':'val_loss','direction':'minimize'}",
        ",'pruner':{'type':'asha','min_resource':1,'reduction_factor':2.5,'max_resource':27,"
        "'min_early_stopping_rate':0,'n_startup_trials':3}",
        ",'pruner':{'type':'asha','min_step':3,'max_resource':3}",
        ",'pruner':{'type':'hyperband','min_resource':1,'max_resource':81,'reduction_factor':3}",
        ",'sampler':{'type':'tpe','n_startup_trials':0,'n_ei_candidates':1,'gamma':1,"
        "'prior_weight':0.001,'multivariate':true,'constant_liar':false,'consider_endpoints':true,"
        "'estimator':'optuna4'}",
        ",'sampler':{'type':'tpe','estimator':'optuna3.1','weights':'optuna','startup':'random'}",
        ",'sampler':{'type':'tpe','weights':'uniform','startup':'lhs'}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *t = s_spec("tpe", P_LR, good[i]);
        sw_spec_t *spec = s_parse_ok(t);
        sw_spec_destroy(&spec);
        free(t);
    }
    /* The parsed values, as the coordinator's modules will read them. */
    sw_pruner_opts_t po;
    cJSON *o = cJSON_Parse("{\"type\":\"asha\",\"min_step\":3,\"max_resource\":27}");
    assert_int_equal(sw_spec_pruner_options(o, "val_loss", SW_DIR_MINIMIZE, &po, NULL), 0);
    assert_int_equal(po.type, SW_PRUNER_ASHA);
    assert_true(po.min_resource == 3 && po.reduction_factor == 3 && po.max_resource == 27);
    assert_int_equal(po.n_startup_trials, 0);
    assert_string_equal(po.metric, "val_loss");
    cJSON_Delete(o);
    assert_int_equal(sw_spec_pruner_options(NULL, "acc", SW_DIR_MAXIMIZE, &po, NULL), 0);
    assert_int_equal(po.type, SW_PRUNER_NONE);
    assert_int_equal(po.direction, SW_DIR_MAXIMIZE);
    sw_tpe_opts_t to;
    assert_int_equal(sw_spec_tpe_options(NULL, &to, NULL), 0);
    assert_int_equal(to.n_startup_trials, 10);
    assert_true(to.gamma == 0.1 && to.prior_weight == 5.0 && to.constant_liar && to.multivariate);
    assert_int_equal(to.mv_bandwidth, SW_TPE_BW_HYPEROPT);
    assert_int_equal(to.n_ei_candidates, 24);
    assert_int_equal(to.estimator, SW_TPE_OPTUNA31);
    assert_int_equal(to.weights, SW_TPE_WEIGHTS_UNIFORM);
    assert_int_equal(to.startup, SW_TPE_STARTUP_LHS);
    assert_false(to.consider_endpoints);
    o = cJSON_Parse("{\"type\":\"tpe\",\"weights\":\"optuna\",\"startup\":\"random\","
                    "\"estimator\":\"optuna4\",\"multivariate_bandwidth\":\"optuna\"}");
    assert_int_equal(sw_spec_tpe_options(o, &to, NULL), 0);
    assert_int_equal(to.mv_bandwidth, SW_TPE_BW_OPTUNA);
    assert_int_equal(to.weights, SW_TPE_WEIGHTS_OPTUNA);
    assert_int_equal(to.startup, SW_TPE_STARTUP_RANDOM);
    assert_int_equal(to.estimator, SW_TPE_OPTUNA4);
    cJSON_Delete(o);
}

static void test_every_fault_reported(void **state)
{
    (void)state;
    char *text = s_json("{'name':'bad name!','objective':{'metric':'m','direction':'sideways'},"
                        "'method':'bayes','seed':-2,"
                        "'parameters':{'lr':{'type':'float','low':1,'high':0.5},"
                        "              'u':{'type':'int','low':0,'high':8,'log':true},"
                        "              'o':{'type':'categorical','values':[1,1]}},"
                        "'cv':{'folds':1},'limits':{'max_trials':-1},'frobnicate':true,"
                        "'trainer':{'type':'command','argv':['x','{nope}']}}");
    const char *want[] = {
        "frobnicate: unknown field",
        "name: must be 1-64 characters from A-Z a-z 0-9 . _ - (got 'bad name!')",
        "objective.direction: unknown direction 'sideways' (expected minimize, maximize)",
        "method: unknown method 'bayes' (expected grid, random, tpe)",
        "seed: must be >= 0 (got -2)",
        "parameters.lr.low: must be <= high (1 > 0.5)",
        "parameters.o.values[1]: duplicate of values[0]",
        "parameters.u.low: must be >= 1 when log is true",
        "cv.folds: must be 0 (no cross-validation) or >= 2 (got 1)",
        "limits.max_trials: must be >= 0 (got -1)",
        "trainer.argv[1]: unknown placeholder '{nope}' (no parameter of that name)",
        NULL,
    };
    s_expect_errors(text, want);
    free(text);

    /* A misspelt field and the field it was meant to be: both reported. */
    char *t2 = s_spec("random", "'lr':{'type':'float','low':0,'hgh':1}", "");
    const char *want2[] = {"parameters.lr.hgh: unknown field", "parameters.lr.high: required field is missing",
                           NULL};
    s_expect_errors(t2, want2);
    free(t2);
}

static void test_origin_and_load(void **state)
{
    (void)state;
    char *text = s_spec("bayes", P_LR, "");
    sw_errs_t errs = {0};
    assert_null(sw_spec_parse(text, strlen(text), "specs/a.json", &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0], "specs/a.json: method: unknown method 'bayes' (expected grid, random, tpe)");
    sw_errs_clear(&errs);

    /* TEXT need not be NUL-terminated: only LEN bytes are read. */
    char *good = s_spec("random", P_LR, "");
    size_t len = strlen(good);
    char *padded = malloc(len + 8);
    memcpy(padded, good, len);
    memcpy(padded + len, "garbage", 7);
    sw_spec_t *spec = sw_spec_parse(padded, len, NULL, &errs);
    assert_non_null(spec);
    sw_spec_destroy(&spec);
    free(padded);

    char nul[] = "{\"name\":\0\"x\"}";
    assert_null(sw_spec_parse(nul, sizeof nul - 1, NULL, &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0], "line 1, column 9: NUL byte in JSON text");
    sw_errs_clear(&errs);

    char *dir = test_mkdtemp();
    char *path = test_write_file(dir, "bad.json", text);
    assert_null(sw_spec_load(path, &errs));
    assert_int_equal(errs.count, 1);
    char *want = NULL;
    assert_true(asprintf(&want, "%s: method: unknown method 'bayes' (expected grid, random, tpe)", path) > 0);
    assert_string_equal(errs.items[0], want);
    sw_errs_clear(&errs);
    free(want);

    char *missing = NULL;
    assert_true(asprintf(&missing, "%s/none.json", dir) > 0);
    assert_null(sw_spec_load(missing, &errs));
    assert_int_equal(errs.count, 1);
    assert_true(asprintf(&want, "%s: cannot read: No such file or directory", missing) > 0);
    assert_string_equal(errs.items[0], want);
    sw_errs_clear(&errs);
    free(want);
    free(missing);
    free(path);
    test_rmtree(dir);
    free(dir);
    free(text);
    free(good);
}

static void test_canonical_form(void **state)
{
    (void)state;
    char *a = s_json("{'b':[1.0,2.5,1e-7,'x\\n',-0.0,1e2,0.1],'a':{'d':true,'c':null,'e':false}}");
    cJSON *ja = cJSON_Parse(a);
    char *ca = sw_json_canonical(ja);
    assert_string_equal(ca, "{\"a\":{\"c\":null,\"d\":true,\"e\":false},\"b\":[1,2.5,1e-07,\"x\\n\",0,100,0.1]}");
    free(ca);
    cJSON_Delete(ja);
    free(a);

    /* Large integers print without exponent; a non-representable decimal round-trips. */
    cJSON *n = cJSON_CreateNumber(9007199254740992.0);
    char *cn = sw_json_canonical(n);
    assert_string_equal(cn, "9007199254740992");
    free(cn);
    cJSON_Delete(n);
    n = cJSON_CreateNumber(1.0 / 3.0);
    cn = sw_json_canonical(n);
    assert_true(strtod(cn, NULL) == 1.0 / 3.0);
    free(cn);
    cJSON_Delete(n);

    /* Same spec, keys in another order and other spacing: same canonical text. */
    char *s1 = s_json("{'name':'c1','objective':{'metric':'m','direction':'maximize'},'method':'random',"
                      "'parameters':{'x':{'type':'int','low':0,'high':3},'lr':{'type':'float','low':0.1,'high':1}},"
                      "'trainer':{'type':'mlp','layers':[12,8]}}");
    char *s2 = s_json("{ 'trainer' : { 'layers' : [ 12, 8 ], 'type' : 'mlp' },\n"
                      "  'parameters': {'lr': {'high': 1.0, 'low': 0.1, 'type': 'float'},\n"
                      "                 'x': {'high': 3, 'type': 'int', 'low': 0}},\n"
                      "  'method': 'random', 'objective': {'direction': 'maximize', 'metric': 'm'},\n"
                      "  'name': 'c1' }");
    sw_spec_t *p1 = s_parse_ok(s1), *p2 = s_parse_ok(s2);
    assert_string_equal(p1->canonical, p2->canonical);
    assert_string_equal(p1->canonical,
                        "{\"method\":\"random\",\"name\":\"c1\",\"objective\":{\"direction\":\"maximize\","
                        "\"metric\":\"m\"},\"parameters\":{\"lr\":{\"high\":1,\"low\":0.1,\"type\":\"float\"},"
                        "\"x\":{\"high\":3,\"low\":0,\"type\":\"int\"}},\"trainer\":{\"layers\":[12,8],"
                        "\"type\":\"mlp\"}}");
    sw_errs_t diffs = {0};
    assert_int_equal(sw_spec_diff(p1, p2, false, &diffs), 0);
    assert_int_equal(diffs.count, 0);
    sw_spec_destroy(&p1);
    sw_spec_destroy(&p2);
    free(s1);
    free(s2);
}

static int s_has(const sw_errs_t *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->items[i], s))
            return 1;
    return 0;
}

static void test_diff_names_changed_paths(void **state)
{
    (void)state;
    char *s1 = s_spec("random", "'lr':{'type':'float','low':0.0001,'high':0.1,'log':true},"
                                "'o':{'type':'categorical','values':['adam','sgd']}",
                      ",'limits':{'max_trials':30}");
    char *s2 = s_spec("random", "'lr':{'type':'float','low':0.0001,'high':0.5,'log':true},"
                                "'o':{'type':'categorical','values':['adam','rmsprop']}",
                      ",'limits':{'max_trials':60},'seed':4");
    sw_spec_t *a = s_parse_ok(s1), *b = s_parse_ok(s2);
    sw_errs_t d = {0};
    assert_int_equal(sw_spec_diff(a, b, false, &d), 4);
    assert_int_equal(d.count, 4);
    assert_true(s_has(&d, "parameters.lr.high"));
    assert_true(s_has(&d, "parameters.o.values[1]"));
    assert_true(s_has(&d, "limits.max_trials"));
    assert_true(s_has(&d, "seed"));
    sw_errs_clear(&d);
    /* Raising max_trials extends a sweep: listed, not counted. */
    assert_int_equal(sw_spec_diff(a, b, true, &d), 3);
    assert_int_equal(d.count, 4);
    assert_true(s_has(&d, "limits.max_trials"));
    sw_errs_clear(&d);
    assert_int_equal(sw_spec_diff(a, a, false, &d), 0);
    assert_int_equal(d.count, 0);
    sw_spec_destroy(&a);
    sw_spec_destroy(&b);
    free(s1);
    free(s2);
}

static void test_param_contains_and_grid_values(void **state)
{
    (void)state;
    char *t = s_spec("random",
                     "'f':{'type':'float','low':0,'high':1,'step':0.1},'g':{'type':'float','low':0.001,'high':1,'log':true},"
                     "'i':{'type':'int','low':2,'high':10,'step':2},'c':{'type':'categorical','values':[1,'1',true,null]}",
                     "");
    sw_spec_t *s = s_parse_ok(t);
    const sw_param_t *f = sw_spec_param(s, "f"), *g = sw_spec_param(s, "g"), *i = sw_spec_param(s, "i"),
                     *c = sw_spec_param(s, "c");
    struct { const sw_param_t *p; const char *v; bool in; } rows[] = {
        {f, "0.3", true}, {f, "0.35", false}, {f, "1", true}, {f, "1.1", false}, {f, "\"0.3\"", false},
        {g, "0.001", true}, {g, "0.0009", false}, {g, "0.5", true},
        {i, "2", true}, {i, "4", true}, {i, "5", false}, {i, "4.5", false}, {i, "12", false}, {i, "0", false},
        {c, "1", true}, {c, "1.0", true}, {c, "\"1\"", true}, {c, "true", true}, {c, "null", true},
        {c, "false", false}, {c, "2", false}, {c, "\"true\"", false},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        cJSON *v = cJSON_Parse(rows[k].v);
        assert_non_null(v);
        if (sw_param_contains(rows[k].p, v) != rows[k].in)
            fail_msg("%s contains %s: expected %d", rows[k].p->name, rows[k].v, rows[k].in);
        cJSON_Delete(v);
    }
    assert_int_equal(sw_param_grid_count(f), 11);
    assert_int_equal(sw_param_grid_count(g), -1);
    assert_int_equal(sw_param_grid_count(i), 5);
    assert_int_equal(sw_param_grid_count(c), 4);
    const char *fv[] = {"0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"};
    for (int k = 0; k < 11; k++) {
        cJSON *v = sw_param_grid_value(f, k);
        char *cv = sw_json_canonical(v);
        assert_string_equal(cv, fv[k]);
        assert_true(sw_param_contains(f, v));
        free(cv);
        cJSON_Delete(v);
    }
    assert_null(sw_param_grid_value(f, 11));
    assert_null(sw_param_grid_value(g, 0));
    sw_spec_destroy(&s);
    free(t);
}

static void test_conditional_grid_size(void **state)
{
    (void)state;
    /* adam: momentum inactive (1 point); sgd: 4 momentum values. */
    char *t = s_spec("grid",
                     "'optimizer':{'type':'categorical','values':['adam','sgd']},"
                     "'momentum':{'type':'float','low':0,'high':0.9,'step':0.3,'when':{'optimizer':'sgd'}}",
                     "");
    sw_spec_t *s = s_parse_ok(t);
    assert_int_equal(sw_spec_grid_size(s), 5);
    const cJSON *vals[2];
    bool active[2];
    cJSON *m = cJSON_CreateNumber(0.3), *adam = cJSON_CreateString("adam"), *sgd = cJSON_CreateString("sgd");
    vals[0] = m;        /* momentum (sorted first) */
    vals[1] = adam;
    sw_spec_active(s, vals, active);
    assert_false(active[0]);
    assert_true(active[1]);
    vals[1] = sgd;
    sw_spec_active(s, vals, active);
    assert_true(active[0]);
    cJSON_Delete(m);
    cJSON_Delete(adam);
    cJSON_Delete(sgd);
    sw_spec_destroy(&s);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walkthrough_pima_grid),
        cmocka_unit_test(test_pima_random_fields),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_malformed_specs),
        cmocka_unit_test(test_pruner_sampler_options),
        cmocka_unit_test(test_every_fault_reported),
        cmocka_unit_test(test_origin_and_load),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_diff_names_changed_paths),
        cmocka_unit_test(test_param_contains_and_grid_values),
        cmocka_unit_test(test_conditional_grid_size),
    };
    return cmocka_run_group_tests_name("sw_spec", tests, NULL, NULL);
}
