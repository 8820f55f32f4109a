from django.core.checks import run_checks


def _deploy_cache_ids() -> list[str]:
    return [m.id for m in run_checks(include_deployment_checks=True, tags=["caches"])]


def test_deploy_check_warns_when_the_cache_is_one_hosts_own(settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        }
    }
    assert "hybridreview.W001" in _deploy_cache_ids()


def test_deploy_check_accepts_a_shared_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert "hybridreview.W001" not in _deploy_cache_ids()


def test_the_cache_check_stays_out_of_everyday_checks():
    # `make run` uses the file cache on purpose: one host, no services.
    assert "hybridreview.W001" not in [m.id for m in run_checks(tags=["caches"])]
