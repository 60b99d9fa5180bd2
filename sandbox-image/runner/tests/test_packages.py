import os
import tempfile
import unittest

from runner.packages import installed_packages


class InstalledPackagesTest(unittest.TestCase):
    def test_names_distributions_from_their_metadata_entries_normalised(self):
        with tempfile.TemporaryDirectory() as site:
            for entry in (
                "scikit_learn-1.4.2.dist-info",
                "python_dateutil-2.9.0.post0.dist-info",
                "tabulate-0.9.0.egg-info",
                "PyYAML-6.0.1-py3.13.egg-info",
                "jaraco.text-3.12.1.dist-info",
                "types_requests-2.31.0.dist-info",
                "numpy",
                "README.txt",
            ):
                os.mkdir(os.path.join(site, entry))
            self.assertEqual(
                installed_packages([site, os.path.join(site, "missing")]),
                ["jaraco-text", "python-dateutil", "pyyaml", "scikit-learn", "tabulate"],
            )

    def test_the_image_names_its_data_stack(self):
        names = installed_packages()
        for name in ("numpy", "pandas", "matplotlib"):
            self.assertIn(name, names)


if __name__ == "__main__":
    unittest.main()
