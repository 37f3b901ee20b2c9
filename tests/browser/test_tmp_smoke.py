import time
import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_smoke(browser, live_server, newsroom, artifacts):
    t = time.time()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    r = page.goto(live_server.url + "/")
    print("status", r.status, time.time() - t)
    page.screenshot(path=str(artifacts / "smoke.png"), full_page=True)
    print(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    page.close()
