from fieldapp.main import run

run()
